"""Bulk grading of the submission store into the nbgrader gradebook."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from wechat_training.assessment import evaluation, gradebook, grader
from wechat_training.cli import main
from wechat_training.content.catalog import Catalog, load_catalog
from wechat_training.submissions import store as submissions

VALID = Path(__file__).parent / "data" / "valid"
MODULE = "account_security"


# ----------------------------------------------------------------- helpers (also used by other grading tests)


def valid_catalog(root: Path = VALID) -> Catalog:
    return load_catalog(root)


def key(catalog: Catalog, qid: str) -> list[str]:
    return sorted(catalog.questions[qid].correct_choice_ids())


def wrong(catalog: Catalog, qid: str) -> list[str]:
    question = catalog.questions[qid]
    if question.type == "true_false":
        return ["false" if question.answer else "true"]
    return [next(c.id for c in question.choices if not c.correct)]


def write_submission(
    course_dir: Path,
    catalog: Catalog,
    employee: str,
    *,
    right: int | None = None,
    answers: dict | None = None,
    submitted_at: str | None = None,
    **changes,
) -> submissions.Submission:
    """One honest portal submission; `right` = how many of the questions (in order) are answered right."""
    qids = catalog.questions_for(MODULE, employee)
    if answers is None:
        right = len(qids) if right is None else right
        answers = {q: key(catalog, q) if i < right else wrong(catalog, q) for i, q in enumerate(qids)}
    fields = {
        "employee_id": employee,
        "module_id": MODULE,
        "content_version": catalog.content_version(MODULE),
        "rule_versions": catalog.rule_versions(MODULE),
        "question_ids": qids,
        "answers": answers,
        "started_at": "2026-03-01T08:00:00.000Z",
        "identity_source": "local",
        "submitted_at": submitted_at or "2026-03-01T08:10:00.000Z",
    }
    fields.update(changes)
    sub = submissions.new_submission(**fields)
    # The store seals the attempt (final id and signature): return what it wrote.
    return submissions.read(submissions.write(course_dir, sub))


def table_dump(db_file: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: equal dumps mean nothing changed."""
    with sqlite3.connect(db_file) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return {t: sorted(map(repr, conn.execute(f'select * from "{t}"'))) for t in tables}


@pytest.fixture(scope="session")
def registered_template(tmp_path_factory) -> Path:
    """A course directory whose gradebook already holds the module, registered
    once by nbgrader's own generate_assignment (it takes seconds)."""
    course = tmp_path_factory.mktemp("registered")
    catalog = valid_catalog()
    url = gradebook.default_url(course)
    gradebook.ensure_schema(url)
    grader.registered(course, url, catalog, MODULE)
    gradebook.dispose(url)
    return course


@pytest.fixture
def course(tmp_path, registered_template) -> Path:
    target = tmp_path / "course"
    shutil.copytree(registered_template, target)
    yield target
    gradebook.dispose(gradebook.default_url(target))


# ----------------------------------------------------------------- tests


def test_every_submission_becomes_an_attempt_and_nbgrader_reads_the_best(course):
    """Does nbgrader's own API see each employee's best attempt with per-question grades?"""
    from nbgrader.api import Gradebook

    catalog = valid_catalog()
    write_submission(course, catalog, "E1001", right=1, submitted_at="2026-03-01T08:10:00.000Z")
    write_submission(course, catalog, "E1001", right=4, submitted_at="2026-03-02T08:10:00.000Z")
    write_submission(course, catalog, "E1001", right=2, submitted_at="2026-03-03T08:10:00.000Z")
    write_submission(course, catalog, "E1002", right=0)
    report = grader.grade(course, catalog)
    assert (report.graded, report.flagged, report.rejected) == (4, 0, [])

    frames = gradebook.read_frames(gradebook.default_url(course))
    assert sorted(frames.attempts.groupby("employee_id").size().items()) == [("E1001", 3), ("E1002", 1)]
    with Gradebook(gradebook.default_url(course), gradebook.COURSE_ID) as gb:
        best = gb.find_submission(MODULE, "E1001")
        assert best.score == 4.0
        assert best.timestamp == datetime(2026, 3, 2, 8, 10)
        assert not best.needs_manual_grade
        grades = {g.name: g.score for g in best.notebooks[0].grades}
        for qid in catalog.questions_for(MODULE, "E1001"):
            assert grades[qid.replace("-", "_")] == catalog.questions[qid].points
        assert gb.find_submission(MODULE, "E1002").score == 0.0


def test_a_better_attempt_in_a_later_run_becomes_the_best_on_the_asked_rows_only(course):
    """nbgrader's rows follow the best attempt across runs; a portal attempt's submission
    holds a grade row per question it asked, none for the others (they count 0)."""
    from nbgrader.api import Gradebook

    catalog = valid_catalog()
    write_submission(course, catalog, "E1101", right=1, submitted_at="2026-03-01T08:10:00.000Z")
    grader.grade(course, catalog)
    write_submission(course, catalog, "E1101", right=4, submitted_at="2026-03-02T08:10:00.000Z")
    assert grader.grade(course, catalog).graded == 1
    asked = {q.replace("-", "_") for q in catalog.questions_for(MODULE, "E1101")}
    with Gradebook(gradebook.default_url(course), gradebook.COURSE_ID) as gb:
        best = gb.find_submission(MODULE, "E1101")
        assert best.score == 4.0 and best.timestamp == datetime(2026, 3, 2, 8, 10)
        grades = {g.name: g.score for g in best.notebooks[0].grades}
    assert set(grades) == asked
    assert len(gradebook.assignment_cells(gradebook.default_url(course), MODULE).grade_cells) > len(asked)


def test_running_twice_changes_nothing(course):
    catalog = valid_catalog()
    for n in range(5):
        write_submission(course, catalog, f"E20{n:02d}", right=n % 5)
    grader.grade(course, catalog)
    before = table_dump(course / "gradebook.db")
    again = grader.grade(course, catalog)
    assert (again.graded, again.already) == (0, 5)
    assert table_dump(course / "gradebook.db") == before


def test_a_crash_half_way_loses_nothing_and_the_next_run_finishes(course, monkeypatch):
    catalog = valid_catalog()
    for n in range(10):
        write_submission(course, catalog, f"E30{n:02d}", right=3)
    real = gradebook.store_attempts
    calls = []

    def crash_on_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(gradebook, "store_attempts", crash_on_third_batch)
    with pytest.raises(RuntimeError, match="power cut"):
        grader.grade(course, catalog, batch_size=3)
    monkeypatch.setattr(gradebook, "store_attempts", real)
    assert len(gradebook.read_frames(gradebook.default_url(course)).attempts) == 6
    report = grader.grade(course, catalog, batch_size=3)
    assert (report.graded, report.already) == (4, 6)
    attempts = gradebook.read_frames(gradebook.default_url(course)).attempts
    assert len(attempts) == 10 and attempts["submission_id"].is_unique


def test_worker_processes_grade_exactly_as_one_process(tmp_path, registered_template):
    """Files judged in forked workers while the main process inserts give the same
    attempts, answers, rejections and nbgrader grades, in the same batches."""
    catalog = valid_catalog()
    now = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    first = tmp_path / "one"
    shutil.copytree(registered_template, first)
    for n in range(12):
        written = write_submission(first, catalog, f"E40{n:02d}", right=n % 5)
    # The same id under a second file name (reused: rejected) and a file that is no submission.
    shutil.copy(written.path, written.path.with_name("20260301T090000000Z_" + written.submission_id + ".json"))
    (written.path.parent / f"20260301T090100000Z_{'0' * 32}.json").write_text("{", encoding="utf-8")
    second = tmp_path / "two"
    shutil.copytree(first, second)

    def graded(course: Path, workers: int) -> dict:
        report = grader.grade(course, catalog, batch_size=4, now=now, workers=workers)
        assert report.workers == workers
        dump = table_dump(course / "gradebook.db")
        with sqlite3.connect(course / "gradebook.db") as conn:
            grades = sorted(
                conn.execute(
                    "select a.student_id, c.name, g.auto_score from grade g join base_cell c on c.id = g.cell_id "
                    "join submitted_notebook n on n.id = g.notebook_id "
                    "join submitted_assignment a on a.id = n.assignment_id"
                )
            )
        gradebook.dispose(gradebook.default_url(course))
        kept = {t: dump[t] for t in ("wt_attempt", "wt_answer", "wt_rejected")}
        return {"report": (report.graded, report.flagged, report.rejected), "tables": kept, "grades": grades}

    alone, pooled = graded(first, 0), graded(second, 1)
    assert pooled == alone
    assert alone["report"][0] == 12 and len(alone["report"][2]) == 2
    assert any("reused" in reason for _path, reason in alone["report"][2])


def test_late_attempts_are_marked_by_the_campaign_due_date(tmp_path, course):
    root = tmp_path / "content"
    shutil.copytree(VALID, root)
    (root / "campaign.yaml").write_text(
        "campaigns:\n"
        "  - id: c1\n"
        "    title: {zh: 培训, en: Training}\n"
        "    open_date: 2026-01-05\n"
        "    due_date: 2026-03-31\n"
        "    audience: {everyone: true}\n"
        f"    modules: [{MODULE}]\n",
        encoding="utf-8",
    )
    catalog = valid_catalog(root)
    write_submission(course, catalog, "E4001", submitted_at="2026-03-31T23:59:00.000Z")
    write_submission(course, catalog, "E4002", submitted_at="2026-04-01T00:01:00.000Z")
    report = grader.grade(course, catalog)
    assert report.late == 1
    attempts = gradebook.read_frames(gradebook.default_url(course)).attempts.set_index("employee_id")
    assert not attempts.loc["E4001", "late"] and attempts.loc["E4002", "late"]


def test_module_and_since_limit_what_is_graded(course):
    catalog = valid_catalog()
    write_submission(course, catalog, "E5001", submitted_at="2026-03-01T08:00:00.000Z")
    write_submission(course, catalog, "E5002", submitted_at="2026-03-05T08:00:00.000Z")
    report = grader.grade(course, catalog, since=datetime(2026, 3, 3, tzinfo=UTC))
    assert report.graded == 1
    assert list(gradebook.read_frames(gradebook.default_url(course)).attempts["employee_id"]) == ["E5002"]
    with pytest.raises(ValueError, match="unknown module"):
        grader.grade(course, catalog, module="no_such_module")


def test_cli_grade_shows_progress_and_reports_rejected_files(course):
    catalog = valid_catalog()
    write_submission(course, catalog, "E6001")
    broken = course / "submissions" / MODULE / "E6002" / "20260301T081000000Z_deadbeef.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", "--root", str(VALID), "--course-dir", str(course)])
    assert result.exit_code == 0, result.output
    assert "graded 1 new submission(s)" in result.stdout
    assert "1 rejected" in result.stdout
    assert "grading 2/2" in result.stderr
    assert f"submissions/{MODULE}/E6002/20260301T081000000Z_deadbeef.json" in result.stderr
    # The rejected file is remembered, not re-reported, and never an attempt.
    again = CliRunner().invoke(main, ["grade", "--root", str(VALID), "--course-dir", str(course)])
    assert "graded 0 new submission(s)" in again.stdout and "rejected" not in again.stderr
    assert gradebook.rejected(gradebook.default_url(course))[0]["employee_id"] == "E6002"


def test_cli_grade_rejects_a_bad_since(course):
    result = CliRunner().invoke(
        main, ["grade", "--root", str(VALID), "--course-dir", str(course), "--since", "yesterday"]
    )
    assert result.exit_code == 2 and "not an ISO date" in result.output


def test_submission_in_the_future_is_flagged_and_not_passed(course):
    catalog = valid_catalog()
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    write_submission(course, catalog, "E7001", submitted_at=future)
    grader.grade(course, catalog)
    attempt = gradebook.read_frames(gradebook.default_url(course)).attempts.iloc[0]
    assert "in the future" in attempt["flags"] and not attempt["passed"]
    # The CLI names it (a re-run reports only new attempts, so grade a second one).
    write_submission(course, catalog, "E7002", submitted_at=future)
    result = CliRunner().invoke(main, ["grade", "--root", str(VALID), "--course-dir", str(course)])
    assert "flagged: E7002 account_security" in result.stderr and "in the future" in result.stderr
    assert attempt["score"] == attempt["max_score"]  # the answers were right; the flag is for a trainer


def test_the_graders_draw_is_the_catalogues_draw():
    """The grader caches the draw pool; the draw must stay exactly the portal's."""
    catalog = valid_catalog()
    keys = evaluation.ModuleKeys(catalog, MODULE)
    for n in range(50):
        assert keys.questions_for(f"E{n}") == catalog.questions_for(MODULE, f"E{n}")
