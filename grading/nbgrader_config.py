"""nbgrader configuration of the WeChat-rules training course.

Run nbgrader from this directory (or pass --CourseDirectory.root). The
gradebook is SQLite in this directory unless WECHAT_TRAINING_DB holds another
SQLAlchemy URL (e.g. postgresql+psycopg2://user@db.example/training).

`nbgrader autograde` here runs the SAFE pipeline: answers are read from the
answer cells as Python literals and scored against the master copies; no
learner code is executed (see wechat_training.assessment.autograde and issue 4: stock
autograde executes the submission in the grader's process, which a cheating
employee can abuse to score wrong answers or rewrite the gradebook).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

here = Path(__file__).resolve().parent
c.CourseDirectory.course_id = "wechat_training"
c.CourseDirectory.db_url = os.environ.get("WECHAT_TRAINING_DB") or f"sqlite:///{here / 'gradebook.db'}"

# The release shows this stub in every answer cell (the key stays in source/).
c.ClearSolutions.code_stub = {"python": 'answer = ""'}

# Safe grading by default; set WECHAT_TRAINING_STOCK_AUTOGRADE=1 only to run
# nbgrader's own executing pipeline on trusted notebooks (the cross-check does).
if os.environ.get("WECHAT_TRAINING_STOCK_AUTOGRADE") != "1":
    from wechat_training.assessment.autograde import AUTOGRADE_PREPROCESSORS, SANITIZE_PREPROCESSORS

    c.Autograde.sanitize_preprocessors = SANITIZE_PREPROCESSORS
    c.Autograde.autograde_preprocessors = AUTOGRADE_PREPROCESSORS

# `nbgrader export` writes our per-employee training records (Excel-safe CSV),
# not nbgrader's hand-built CSV (issue 5).
c.ExportApp.plugin_class = "wechat_training.records.nbgrader_export.RecordsExportPlugin"
