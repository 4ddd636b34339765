"""The item-writing lint: does `check` name every cue a guesser could use, at its path:line?"""

import pytest
from click.testing import CliRunner
from conftest import REPO
from content_trees import LINT, lint_tree

from wechat_training.cli import main

LINT_CASES = sorted(p.name for p in LINT.iterdir() if p.is_dir() and not p.name.startswith("_"))


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_the_clean_base_tree_has_no_findings(tmp_path):
    root = lint_tree("_clean", tmp_path / "content")
    result = run("check", "--strict", "--root", str(root))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.mark.parametrize("case", LINT_CASES)
def test_each_lint_case_warns_with_its_exact_message(case, tmp_path):
    """Without --strict a finding is a warning: printed on stderr, and check still passes."""
    root = lint_tree(case, tmp_path / "content")
    result = run("check", "--root", str(root))
    expected = (LINT / case / "expected.txt").read_text().splitlines()
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [*expected, f"{len(expected)} warning(s)."]
    assert result.stdout.startswith("ok: ")


@pytest.mark.parametrize("case", LINT_CASES)
def test_strict_turns_each_lint_finding_into_an_error(case, tmp_path):
    root = lint_tree(case, tmp_path / "content")
    result = run("check", "--strict", "--root", str(root))
    expected = [
        line.replace(": warning: ", ": ", 1) for line in (LINT / case / "expected.txt").read_text().splitlines()
    ]
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [*expected, f"{len(expected)} problem(s) found."]
    assert result.stdout == ""


def test_shipped_content_is_lint_clean_under_strict():
    """Issue 9 'done when': CI runs check --strict on the kit's own content."""
    result = run("check", "--strict", "--root", str(REPO))
    assert result.exit_code == 0, result.stderr
