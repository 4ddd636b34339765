"""Build content trees for tests: the tiny valid tree with a broken overlay applied."""

from __future__ import annotations

import shutil
from pathlib import Path

DATA = Path(__file__).parent / "data"
VALID = DATA / "valid"
BROKEN = DATA / "broken"


def broken_tree(name: str, into: Path) -> Path:
    """Copy tests/data/valid to `into`, then lay tests/data/broken/<name> over it.

    An overlay holds only the files it changes; a `DELETE` file lists paths to remove.
    """
    shutil.copytree(VALID, into)
    overlay = BROKEN / name
    for path in overlay.rglob("*"):
        if path.is_file() and path.name not in ("DELETE", "expected.txt"):
            target = into / path.relative_to(overlay)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    deletions = overlay / "DELETE"
    if deletions.exists():
        for line in deletions.read_text().split():
            (into / line).unlink()
    return into


LINT = DATA / "lint"


def lint_tree(name: str, into: Path) -> Path:
    """The valid tree with lint-clean questions (tests/data/lint/_clean), then one lint case laid over it."""
    shutil.copytree(VALID, into)
    # The lint cases number their own questions on from Q-ACC-006, where the valid tree keeps
    # its practice-only pool: leave that pool out of lint trees.
    (into / "quizzes" / "questions" / "account_security_practice.yaml").unlink()
    module = into / "quizzes" / "modules" / "account_security.yaml"
    kept = [line for line in module.read_text(encoding="utf-8").splitlines(keepends=True) if "practice:" not in line]
    module.write_text("".join(kept), encoding="utf-8")
    for overlay in (LINT / "_clean", LINT / name):
        for path in overlay.rglob("*"):
            if path.is_file() and path.name != "expected.txt":
                target = into / path.relative_to(overlay)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    return into
