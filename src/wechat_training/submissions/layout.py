"""Where the store keeps its files, and walking them safely.

<course dir>/submissions/<module_id>/<employee_id>/<submitted_at>_<submission_id>.json
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

STORE_DIR = "submissions"


def store_path(course_dir: Path) -> Path:
    return Path(course_dir) / STORE_DIR


def paths(course_dir: Path, module_id: str | None = None, employee_id: str | None = None) -> Iterator[Path]:
    """Every submission file in the store, in a stable order (module, employee, name).

    Folders are entered only when they are real directories (a symlinked folder
    is never followed out of the store: it is yielded so the grader names and
    rejects it), and every *.json entry is yielded whatever its type, for the
    same reason. Dot files (a write in progress) are left alone."""
    root = store_path(course_dir)
    if not _real_dir(root):
        return
    for module_dir in _entries(root, module_id):
        if not _real_dir(module_dir):
            if module_dir.is_symlink():
                yield module_dir
            continue
        for employee_dir in _entries(module_dir, employee_id):
            if not _real_dir(employee_dir):
                if employee_dir.is_symlink():
                    yield employee_dir
                continue
            yield from _entries(employee_dir, None, suffix=".json")


def _real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _entries(directory: Path, only: str | None, suffix: str = "") -> list[Path]:
    if only is not None:
        candidate = directory / only
        return [candidate] if os.path.lexists(candidate) else []
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [directory / n for n in sorted(names) if not n.startswith(".") and n.endswith(suffix)]
