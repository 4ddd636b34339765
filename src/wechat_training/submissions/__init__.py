"""Submissions: the contract between the learner's page and the grader.

Owns the submission store (one JSON file per attempt, written atomically, read
without trust) and scoring (a pure function from answers and the catalogue's
keys to points). Learning writes here and scores practice; assessment reads here
and scores the graded quiz, so both stand on this layer instead of on each
other. May import `content` only.
"""
