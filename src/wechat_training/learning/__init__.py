"""Learning: what the employee sees and does, in Voila.

Owns the quiz session and practice (plain Python state), the portal's module
statuses, the employee's identity (from the server, never from the page), the
ipywidgets views, the learner notebooks `build` writes, and the Voila server
with its pool of kernels forked from a warm template. May import `content` and
`submissions`; never `assessment` or `records` (a learner's kernel holds no
grading code and no gradebook).
"""
