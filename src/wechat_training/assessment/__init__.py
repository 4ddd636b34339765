"""Assessment: turning submissions into grades in nbgrader's gradebook.

(Not to be confused with the top-level `grading/` folder, which is the nbgrader
course directory this layer writes into.) Owns the nbgrader assignments built
from the bank, reading answers as data from notebooks or the store, the safe
grader and its `nbgrader autograde` preprocessors, and the gradebook database
(nbgrader's tables plus ours). May import `content` and `submissions`.
"""
