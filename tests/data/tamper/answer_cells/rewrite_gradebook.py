# Attack: one SQL statement that rewrites every employee's grade.
import os
import sqlite3

open(os.environ.get("WT_TAMPER_MARKER", os.devnull), "a").write("rewrite_gradebook ran\n")
for path in ("../../../gradebook.db", os.environ.get("WT_TAMPER_DB", "")):
    if path and os.path.exists(path):
        with sqlite3.connect(path) as db:
            db.execute("UPDATE grade SET auto_score = 0, manual_score = 0")
            db.execute("UPDATE wt_attempt SET score = 0, passed = 0")
answer = "z"
