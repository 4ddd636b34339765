"""The employee directory a learner kernel reads: roster names by employee id, as small files.

Behind a proxy (trusted header) or under JupyterHub the page knows only the
employee id; the portal greeted people by id (issue 14). The roster lives in
the gradebook, which a learner kernel does not open (no SQL, no pandas there),
so `roster import` and `serve` write its names here, under the course
directory, and `identity` looks one id up per visit.

Layout: `<course-dir>/directory/<xx>.json`, 256 shards by a hash of the id, each
a JSON object {employee_id: {"name": ..., "department": ..., "role": ...}}:
a visit reads one shard (a few KB for 100,000 employees), not the whole roster.
Each shard is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DIRECTORY = "directory"
FIELDS = ("name", "department", "role")


def _shard(employee_id: str) -> str:
    return hashlib.sha1(employee_id.encode("utf-8")).hexdigest()[:2]


def write(course_dir: Path | str, people: Mapping[str, Mapping[str, Any]]) -> Path:
    """Replace the directory with `people` ({employee_id: roster row}); returns its folder."""
    folder = Path(course_dir) / DIRECTORY
    folder.mkdir(parents=True, exist_ok=True)
    shards: dict[str, dict[str, dict[str, str]]] = {}
    for employee_id, row in people.items():
        entry = {f: str(row.get(f) or "") for f in FIELDS}
        shards.setdefault(_shard(employee_id), {})[employee_id] = entry
    for name, content in shards.items():
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(content, out, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, folder / f"{name}.json")
    for stale in folder.glob("*.json"):
        if stale.stem not in shards:
            stale.unlink()
    return folder


def lookup(course_dir: Path | str, employee_id: str) -> dict[str, str] | None:
    """The roster entry of one employee, None when there is no directory or no such id."""
    path = Path(course_dir) / DIRECTORY / f"{_shard(employee_id)}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8")).get(employee_id)
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None
