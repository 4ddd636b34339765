"""`wechat-training diff`: what publishing a content change costs.

Compares two versions of the content (git refs of the repository holding the
content root, or two folders): rules whose version was bumped (passes on the
older version expire), the modules citing them, and rules whose text changed
while the version stayed (learners would be held to wording they never passed).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from ..content.catalog import Catalog, load_catalog


class DiffError(Exception):
    """A ref that is neither a folder nor a git revision, or git failing."""


@dataclass(frozen=True)
class Bump:
    rule_id: str
    old: int
    new: int
    modules: tuple[str, ...]  #: modules (new content) citing the rule


@dataclass
class Changes:
    bumped: list[Bump] = field(default_factory=list)
    text_changed_same_version: list[str] = field(default_factory=list)
    added_rules: list[str] = field(default_factory=list)
    removed_rules: list[str] = field(default_factory=list)
    changed_modules: list[str] = field(default_factory=list)  #: content version differs (questions or keys)
    added_questions: list[str] = field(default_factory=list)
    removed_questions: list[str] = field(default_factory=list)
    changed_questions: list[str] = field(default_factory=list)

    @property
    def expiring_modules(self) -> set[str]:
        return {m for b in self.bumped for m in b.modules}


def compare(old: Catalog, new: Catalog) -> Changes:
    changes = Changes()
    cited = {m: set(new.cited_rules(m)) for m in new.modules}
    for rid, rule in new.rules.items():
        before = old.rules.get(rid)
        if before is None:
            changes.added_rules.append(rid)
        elif rule.version != before.version:
            modules = tuple(sorted(m for m, rules in cited.items() if rid in rules))
            changes.bumped.append(Bump(rid, before.version, rule.version, modules))
        elif rule.text != before.text or rule.title != before.title:
            changes.text_changed_same_version.append(rid)
    changes.removed_rules = sorted(set(old.rules) - set(new.rules))
    changes.added_questions = sorted(set(new.questions) - set(old.questions))
    changes.removed_questions = sorted(set(old.questions) - set(new.questions))
    changes.changed_questions = sorted(
        q for q in set(new.questions) & set(old.questions) if new.questions[q] != old.questions[q]
    )
    changes.changed_modules = sorted(
        m for m in new.modules if m in old.modules and new.content_version(m) != old.content_version(m)
    )
    return changes


def content_at(ref: str, root: Path, scratch: Path) -> Path:
    """A folder holding the content of `ref`: `ref` itself when it is a folder, else the
    content root's rules/ and quizzes/ at git revision `ref`, unpacked under `scratch`."""
    if Path(ref).is_dir():
        return Path(ref)
    root = root.resolve()
    try:
        top = Path(_git(root, "rev-parse", "--show-toplevel").decode().strip())
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except DiffError as exc:
        raise DiffError(f"{ref!r} is neither a folder nor a git revision of {root}: {exc}") from exc
    prefix = root.relative_to(top).as_posix()
    paths = [f"{prefix}/{sub}" if prefix != "." else sub for sub in ("rules", "quizzes")]
    archive = _git(top, "archive", "--format=tar", ref, "--", *paths)
    target = scratch / ref.replace("/", "_")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / prefix if prefix != "." else target


def _git(where: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, check=True, timeout=60)
    except FileNotFoundError as exc:
        raise DiffError("git is not installed") from exc
    except subprocess.CalledProcessError as exc:
        raise DiffError(exc.stderr.decode(errors="replace").strip() or f"git {args[0]} failed") from exc
    return done.stdout


def load_both(old_ref: str, new_ref: str | None, root: Path, scratch: Path) -> tuple[Catalog, Catalog]:
    """Catalogues of the two versions (`new_ref` None: the content root as it is now)."""
    old = load_catalog(content_at(old_ref, root, scratch))
    new = load_catalog(content_at(new_ref, root, scratch) if new_ref else root)
    return old, new


def expiring_passes(records, changes: Changes) -> dict[str, int]:
    """Per module citing a bumped rule: how many currently valid passes would expire."""
    from ..records import rollup as R

    passed = records[records[R.STATUS] == R.PASSED]
    counts = passed[R.MODULE_ID].value_counts()
    return {m: int(counts.get(m, 0)) for m in sorted(changes.expiring_modules)}
