"""`wechat-training new`: a draft skeleton lands in the right file, with the next free id,
keeping the file's comments and order; `check` passes on it; learners never meet it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from wechat_training.assessment import assignments
from wechat_training.cli import main
from wechat_training.content.catalog import load_catalog
from wechat_training.content.schema import AREAS

VALID = Path(__file__).parent / "data" / "valid"
#: The valid tree's account_security questions run to Q-ACC-007 (the practice file included).
QUESTIONS = Path("quizzes/questions/account_security.yaml")
RULES = Path("rules/account_security.yaml")
COMMENT = "# Trainer's note: keep the two password rules together.\n"


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(VALID, root)
    for name in (QUESTIONS, RULES):
        path = root / name
        text = path.read_text(encoding="utf-8")
        # A comment at the top and one between items: both must survive.
        path.write_text(COMMENT + text.replace("\n  - id: ", f"\n  {COMMENT.strip()}\n  - id: ", 1), encoding="utf-8")
    return root


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("kind", ["single", "multiple", "true_false", "scenario"])
def test_new_question_lands_with_next_id_and_keeps_the_file(root, kind):
    before = (root / QUESTIONS).read_text(encoding="utf-8")
    result = run("new", "question", "ACC-001", "--type", kind, "--root", str(root))
    assert result.exit_code == 0, result.output
    after = (root / QUESTIONS).read_text(encoding="utf-8")
    assert after.startswith(before)  # every byte before it, comments and order included
    assert after.count(COMMENT.strip()) == 2
    line = int(result.output.split(f"{root / QUESTIONS}:")[1].split()[0])
    assert after.splitlines()[line - 1].strip() == "- id: Q-ACC-008"
    catalog = load_catalog(root, include_drafts=True)
    assert catalog.questions["Q-ACC-008"].type == kind and catalog.questions["Q-ACC-008"].draft

    check = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert check.exit_code == 0, check.output
    assert "1 draft(s) not shown to learners" in check.output and "Q-ACC-008" in check.output


def test_ids_count_on_from_the_highest(root):
    run("new", "question", "ACC-002", "--type", "single", "--root", str(root))
    second = run("new", "question", "ACC-002", "--type", "true_false", "--root", str(root))
    assert "added Q-ACC-009" in second.output
    rule = run("new", "rule", "account_security", "--root", str(root))
    assert "added ACC-003" in rule.output
    text = (root / RULES).read_text(encoding="utf-8")
    assert text.count(COMMENT.strip()) == 2
    assert "ACC-003" in load_catalog(root, include_drafts=True).rules
    # A question on the new draft rule (drafts may cite drafts) still checks.
    assert "added Q-ACC-010" in run("new", "question", "ACC-003", "--root", str(root)).output
    assert run("check", "--root", str(root)).exit_code == 0


def test_new_rule_in_an_area_without_a_file(root):
    result = run("new", "rule", "oversight", "--root", str(root))
    assert "added OVS-001" in result.output
    assert (root / "rules" / "oversight.yaml").read_text(encoding="utf-8").startswith("rules:\n")


def test_drafts_never_reach_learners_draws_or_assignments(root, tmp_path):
    for kind in ("single", "multiple", "true_false", "scenario"):
        run("new", "question", "ACC-001", "--type", kind, "--root", str(root))
    drafts = {"Q-ACC-008", "Q-ACC-009", "Q-ACC-010", "Q-ACC-011"}
    catalog = load_catalog(root)
    assert set(catalog.drafts) == drafts and not drafts & set(catalog.questions)
    assert not drafts & set(catalog.draw_pool("account_security"))
    for employee in (f"E{n:06d}" for n in range(40)):
        assert not drafts & set(catalog.questions_for("account_security", employee))
    notebook = assignments.notebook_for(catalog, "account_security")
    assert not any(d in "".join(c.source for c in notebook.cells) for d in drafts)
    assert catalog.to_json() == load_catalog(VALID).to_json()  # nothing a learner meets changed


def test_an_untouched_skeleton_without_draft_fails_check(root):
    run("new", "question", "ACC-001", "--type", "scenario", "--root", str(root))
    path = root / QUESTIONS
    path.write_text(path.read_text(encoding="utf-8").replace("    draft: true  #", "    #"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert result.exit_code == 1
    assert "question Q-ACC-008: still holds the skeleton placeholder" in result.output
    assert f"{QUESTIONS}:" in result.output


def test_a_published_question_cannot_cite_a_draft_rule(root):
    run("new", "rule", "account_security", "--root", str(root))
    path = root / QUESTIONS
    path.write_text(
        path.read_text(encoding="utf-8").replace("rules: [ACC-002]", "rules: [ACC-003]", 1), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert result.exit_code == 1 and "cites draft rule ACC-003" in result.output


def test_unknown_rule_area_or_type_is_a_clear_error(root):
    assert (
        "unknown rule 'ACC-099'" in CliRunner().invoke(main, ["new", "question", "ACC-099", "--root", str(root)]).output
    )
    assert "unknown area 'payroll'" in CliRunner().invoke(main, ["new", "rule", "payroll", "--root", str(root)]).output
    bad = CliRunner().invoke(main, ["new", "question", "ACC-001", "--type", "essay", "--root", str(root)])
    assert bad.exit_code == 2


def test_a_file_whose_list_is_not_last_is_left_alone(root):
    path = root / RULES
    original = path.read_text(encoding="utf-8") + "extra: 1\n"
    path.write_text(original, encoding="utf-8")
    result = CliRunner().invoke(main, ["new", "rule", "account_security", "--root", str(root)])
    assert result.exit_code == 1 and "cannot append" in result.output
    assert path.read_text(encoding="utf-8") == original


def test_every_area_has_a_prefix_for_new_rules(tmp_path):
    root = tmp_path / "empty"
    (root / "rules").mkdir(parents=True)
    (root / "quizzes" / "questions").mkdir(parents=True)
    ids = [run("new", "rule", area, "--root", str(root)).output.split()[1] for area in AREAS]
    assert ids == ["ACC-001:", "PUB-001:", "CON-001:", "CUS-001:", "GRP-001:", "OVS-001:"]


@pytest.mark.parametrize(
    "old,new,message",
    [
        (
            "fixed: [Q-ACC-001, Q-ACC-004]",
            "fixed: [Q-ACC-001, Q-ACC-004, Q-ACC-008]",
            "fixed names draft question Q-ACC-008",
        ),
        ("draw: {count: 2}", "draw: {count: 1, pool: [Q-ACC-008]}", "draw.pool names draft question Q-ACC-008"),
    ],
)
def test_a_module_cannot_name_a_draft(root, old, new, message):
    run("new", "question", "ACC-001", "--type", "single", "--root", str(root))
    module = root / "quizzes" / "modules" / "account_security.yaml"
    text = module.read_text(encoding="utf-8")
    assert old in text
    module.write_text(text.replace(old, new), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--root", str(root)])
    assert result.exit_code == 1 and message in result.output
