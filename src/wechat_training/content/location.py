"""Where the content and the course directory live.

The content root (the folder holding `rules/`, `quizzes/` and `campaign.yaml`)
is configuration: a company keeps its own content next to a plain `pip install`
of the kit. It is, in this order: the `--root` given, `$WECHAT_TRAINING_ROOT`,
the current directory when it holds `rules/` and `quizzes/`, and last the kit's
own repository content, which exists only in a source checkout (an editable
install).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ROOT_VARIABLE = "WECHAT_TRAINING_ROOT"
COURSE_DIR_VARIABLE = "WECHAT_TRAINING_COURSE_DIR"

#: src/wechat_training/content/location.py -> the repository top, in a source checkout.
REPOSITORY = Path(__file__).resolve().parents[3]


class ContentRootError(LookupError):
    """No content root was given and none was found."""


def holds_content(folder: Path) -> bool:
    return (folder / "rules").is_dir() and (folder / "quizzes").is_dir()


def content_root(
    explicit: Path | str | None = None,
    *,
    beside: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Path:
    """The content root to use (see the module docstring for the order).

    `beside` is a course directory whose parent may hold the content: nbgrader
    runs from inside the course directory, where the current directory has none.
    """
    if explicit:
        return Path(explicit)
    if environ.get(ROOT_VARIABLE):
        return Path(environ[ROOT_VARIABLE])
    candidates = [Path.cwd()]
    if beside is not None:
        candidates.append(Path(beside).resolve().parent)
    candidates.append(REPOSITORY)
    for folder in candidates:
        if holds_content(folder):
            return folder
    raise ContentRootError(
        "no content found: pass --root DIR, set $WECHAT_TRAINING_ROOT, "
        "or run in a folder that holds rules/ and quizzes/"
    )


def course_dir_of(root: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """$WECHAT_TRAINING_COURSE_DIR, else grading/ beside the content."""
    return Path(environ.get(COURSE_DIR_VARIABLE) or root / "grading")


def page_settings(environ: Mapping[str, str] = os.environ) -> tuple[Path, Path]:
    """Content root and course directory of a page, from the server's environment."""
    root = content_root(environ=environ)
    return root, course_dir_of(root, environ)
