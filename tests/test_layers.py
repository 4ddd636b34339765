"""Do imports run one way through the package's layers (issue 8)?

content <- submissions <- learning
                       <- assessment <- records;  authoring (trainer tools) over all
five, the CLI on top.

Every import counts, lazy ones inside functions too: a lazy wrong-way import is
still a dependency, only a slower one to notice.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "wechat_training"

#: layer -> the layers it may import (itself included).
ALLOWED: dict[str, set[str]] = {
    "content": {"content"},
    "submissions": {"content", "submissions"},
    "learning": {"content", "submissions", "learning"},
    "assessment": {"content", "submissions", "assessment"},
    "records": {"content", "submissions", "assessment", "records"},
    # Trainer tools (issue 10): skeletons, bank interchange, diff; nothing below imports them.
    "authoring": {"content", "submissions", "learning", "assessment", "records", "authoring"},
}
TOP = {"cli", "__main__", "__init__"}  # cli is a package: wechat_training.cli.<group>


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import of the package's own modules in `path`."""
    name = module_name(path, package)
    here = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] == package.name:
                # `from . import x` imports the module x when x is one
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == package.name]
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def wrong_way_imports(package: Path) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        source_layer = layer_of(module_name(path, package))
        if source_layer in TOP or source_layer is None:
            continue
        if source_layer not in ALLOWED:
            problems.append(f"{path.relative_to(package.parent)}: module outside every layer")
            continue
        for line, target in imported_modules(path, package):
            target_layer = layer_of(target)
            if target_layer is None:
                continue
            if target_layer in TOP or target_layer not in ALLOWED[source_layer]:
                problems.append(
                    f"{path.relative_to(package.parent)}:{line}: {source_layer} imports {target} ({target_layer})"
                )
    return problems


def test_imports_run_one_way_through_the_layers():
    assert wrong_way_imports(PACKAGE) == []


def test_every_module_belongs_to_a_layer_or_the_top():
    top_level = {p.stem for p in PACKAGE.glob("*.py")}
    assert top_level <= TOP
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    # cli/ is the top, one module per command group (issue 10 split it when it passed 400 lines).
    assert packages == set(ALLOWED) | {"cli"}


@pytest.mark.parametrize(
    ("layer", "statement"),
    [
        ("content", "from ..records import rollup"),
        ("learning", "from ..assessment import grader"),
        ("assessment", "    from ..learning.widgets import page"),
        ("submissions", "from wechat_training.cli import main"),
        ("records", "from .. import cli"),
        ("records", "from ..authoring import diff"),
        ("learning", "    from ..authoring.skeletons import add_rule"),
        ("authoring", "from ..cli import main"),
    ],
)
def test_a_wrong_way_import_is_caught(tmp_path, layer, statement):
    package = tmp_path / "wechat_training"
    for name in ALLOWED:
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").write_text("")
    (package / "cli.py").write_text("from .records import rollup\n")
    body = f"def later():\n{statement}\n" if statement.startswith(" ") else f"{statement}\n"
    (package / layer / "culprit.py").write_text(body)
    problems = wrong_way_imports(package)
    assert len(problems) == 1 and problems[0].startswith(f"wechat_training/{layer}/culprit.py:")
