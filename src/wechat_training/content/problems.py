"""Problems found in authored files, reported all at once as `path:line: message`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

ERROR = "error"
#: Item-writing findings (`item_lint`): printed, but `check` still passes unless --strict.
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        marker = "warning: " if self.severity == WARNING else ""
        return f"{self.path}:{self.line}: {marker}{self.message}"

    def as_error(self) -> Problem:
        return replace(self, severity=ERROR)


class ContentError(Exception):
    """Raised with every problem found, so an author fixes them in one pass."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def display_path(path: Path, root: Path) -> str:
    """The path as an author types it: relative to the content root when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
