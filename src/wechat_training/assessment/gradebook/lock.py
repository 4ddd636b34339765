"""One `grade` run at a time per gradebook (issue 15).

PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection
held for the whole run, released by the server even if the grader dies.
SQLite: an exclusive `flock` on ``<database file>.grade-lock`` beside the
database, released by the kernel when the process exits. A second run waits up
to `wait` seconds, then raises `GradeLockBusy` with a message saying so.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from .database import GradebookError, engine_for

#: Advisory lock id of "one grade run" (any 64-bit number unique to this use).
ADVISORY_KEY = 0x7774_6772_6164_65  # "wtgrade"
POLL_SECONDS = 0.2


class GradeLockBusy(GradebookError):
    """Another grade run holds the gradebook's lock."""


@contextlib.contextmanager
def grade_lock(db_url: str, wait: float = 0.0) -> Iterator[None]:
    engine = engine_for(db_url)
    if engine.dialect.name == "postgresql":
        with _advisory(engine, wait):
            yield
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with _flock(Path(engine.url.database).with_name(Path(engine.url.database).name + ".grade-lock"), wait):
            yield
    else:
        yield  # in-memory SQLite: one process by construction


def _busy(wait: float) -> GradeLockBusy:
    waited = f" (waited {wait:g} s)" if wait else ""
    return GradeLockBusy(
        f"another `wechat-training grade` is running on this gradebook{waited}; "
        "try again when it has finished, or pass --wait SECONDS"
    )


@contextlib.contextmanager
def _advisory(engine: sa.Engine, wait: float) -> Iterator[None]:
    deadline = time.monotonic() + wait
    with engine.connect() as conn:
        while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar():
            conn.rollback()
            if time.monotonic() >= deadline:
                raise _busy(wait)
            time.sleep(POLL_SECONDS)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            conn.commit()


@contextlib.contextmanager
def _flock(path: Path, wait: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(wait) from None
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
