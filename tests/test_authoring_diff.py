"""`wechat-training diff` (folders and git refs, passes that would expire) and
`wechat-training analytics` (miss rates per rule / department, small groups hidden)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from wechat_training.cli import main

VALID = Path(__file__).parent / "data" / "valid"
RULES = Path("rules/account_security.yaml")
TODAY = datetime.now(UTC)
CAMPAIGN = f"""\
campaigns:
  - id: all-staff
    title: {{zh: 全员培训, en: All staff}}
    open_date: {(TODAY - timedelta(days=30)).date()}
    due_date: {(TODAY + timedelta(days=30)).date()}
    audience: {{everyone: true}}
    modules: [account_security]
"""
#: Sales: 6 people, 4 pass; Legal: 2 people (a group below 5), both pass.
PEOPLE = [(f"S{i:02d}", "Sales", i <= 4) for i in range(1, 7)] + [(f"L{i:02d}", "Legal", True) for i in (1, 2)]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def versions(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(VALID, old)
    shutil.copytree(VALID, new)
    rules = (new / RULES).read_text(encoding="utf-8")
    first, second = rules.split("\n  - id: ACC-002", 1)
    # ACC-001: meaning changed, version bumped. ACC-002: wording changed, version kept.
    first = first.replace("version: 1", "version: 2")
    second = second.replace("text: {zh: ", "text: {zh: 改写：", 1)
    (new / RULES).write_text(first + "\n  - id: ACC-002" + second, encoding="utf-8")
    return old, new


def test_diff_of_two_folders_names_bumps_modules_and_silent_text_changes(versions):
    old, new = versions
    result = run("diff", str(old), str(new))
    assert result.exit_code == 0, result.output
    assert "bumped ACC-001 v1 -> v2: cited by account_security" in result.output
    assert "warning: ACC-002 text changed but its version did not" in result.output
    assert "ACC-001 text changed" not in result.output
    assert "no gradebook: pass --course-dir or --db" in result.output


def test_diff_against_a_git_ref(versions, tmp_path):
    old, new = versions
    repo = tmp_path / "repo"
    shutil.copytree(old, repo / "content")
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "first")
    shutil.copy(new / RULES, repo / "content" / RULES)
    result = run("diff", "HEAD", "--root", str(repo / "content"))
    assert result.exit_code == 0, result.output
    assert "bumped ACC-001 v1 -> v2" in result.output
    unknown = run("diff", "no-such-ref", "--root", str(repo / "content"))
    assert unknown.exit_code == 1 and "neither a folder nor a git revision" in unknown.output


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    import records_gradebook as G

    from wechat_training.assessment import gradebook
    from wechat_training.content.catalog import load_catalog

    base = tmp_path_factory.mktemp("trainer-course")
    root = base / "content"
    shutil.copytree(VALID, root)
    (root / "campaign.yaml").write_text(CAMPAIGN, encoding="utf-8")
    course_dir = base / "course"
    url = gradebook.default_url(course_dir)
    catalog = load_catalog(root)
    G.register_modules(url, catalog, ["account_security"])
    G.add_roster(
        url,
        [
            {
                "employee_id": e,
                "name": f"Person {e}",
                "department": d,
                "role": "Staff",
                "email": "",
                "manager": "M01",
                "hire_date": None,
            }
            for e, d, _ in PEOPLE
        ],
    )
    when = TODAY - timedelta(days=2)
    G.store(url, [G.graded_attempt(catalog, e, "account_security", when, passes) for e, _, passes in PEOPLE])
    gradebook.dispose(url)
    return root, course_dir


def test_diff_counts_the_passes_that_would_expire(course, versions):
    root, course_dir = course
    _, new = versions
    result = run("diff", str(root), str(new), "--root", str(root), "--course-dir", str(course_dir))
    assert result.exit_code == 0, result.output
    assert "account_security: 6 current pass(es) would expire" in result.output
    assert "6 pass(es) would expire in all" in result.output


def test_analytics_by_rule_and_department_hide_small_groups(course, monkeypatch):
    root, course_dir = course
    by_rule = run("analytics", "--by", "rule", "--root", str(root), "--course-dir", str(course_dir))
    assert by_rule.exit_code == 0, by_rule.output
    assert "ACC-001" in by_rule.output and "miss_rate" in by_rule.output
    by_department = run("analytics", "--by", "department", "--root", str(root), "--course-dir", str(course_dir))
    assert "Sales" in by_department.output and "Legal" not in by_department.output  # 2 people: hidden
    monkeypatch.setenv("WECHAT_TRAINING_MIN_GROUP", "9")
    hidden = run("analytics", "--root", str(root), "--course-dir", str(course_dir))
    assert "no group of at least 9 people" in hidden.output


def test_diff_lists_question_changes(versions):
    old, new = versions
    questions = new / "quizzes" / "questions" / "account_security.yaml"
    edit(questions, "explanation: {zh: 多短都不行（ACC-001）。", "explanation: {zh: 一分钟也不行（ACC-001）。")
    result = run("diff", str(old), str(new))
    assert "questions changed: Q-ACC-002" in result.output
    assert "module account_security: questions or keys changed" in result.output
