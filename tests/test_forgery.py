"""The forgery corpus (tests/data/forgery/corpus.yaml): no file an attacker can
place in the store changes another employee's record or earns its writer a pass.

Asserted at the records level: `wechat-training records show VICTIM` prints
byte-identical text with and without the attacker's file, before `grade` (the
pending attempt from the store) and after it, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import test_grader
import yaml
from click.testing import CliRunner
from test_grader import MODULE, key, wrong
from test_postgres import pg_server  # noqa: F401  (the real server fixture)

from wechat_training.assessment import gradebook, grader
from wechat_training.cli import main
from wechat_training.content.catalog import Catalog, load_catalog
from wechat_training.submissions import provenance
from wechat_training.submissions import store as submissions

HERE = Path(__file__).parent
CORPUS = yaml.safe_load((HERE / "data" / "forgery" / "corpus.yaml").read_text(encoding="utf-8"))["cases"]
ATTACKER, VICTIM = "E2001", "E2002"
AS_OF = "2026-03-20"
CAMPAIGN = """\
home_page: https://corp.example
campaigns:
  - id: all-staff
    title: {zh: 全员培训, en: All staff}
    open_date: 2026-02-01
    due_date: 2026-03-31
    validity_days: 365
    audience: {everyone: true}
    modules: [account_security]
"""


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Catalog:
    root = tmp_path_factory.mktemp("content") / "tree"
    shutil.copytree(test_grader.VALID, root)
    (root / "campaign.yaml").write_text(CAMPAIGN, encoding="utf-8")
    return load_catalog(root)


def base_course(tmp: Path, catalog: Catalog, db_url: str | None) -> tuple[Path, str]:
    """The victim's graded pass and newer pending pass; returns (course, pending id)."""
    course = tmp / "course"
    test_grader.write_submission(course, catalog, VICTIM, submitted_at="2026-03-01T08:10:00.000Z")
    grader.grade(course, catalog, db_url=db_url)
    pending = test_grader.write_submission(
        course, catalog, VICTIM, submitted_at="2026-03-05T08:10:00.000Z", started_at="2026-03-05T08:00:00.000Z"
    )
    return course, pending.submission_id


def show(course: Path, catalog: Catalog, employee: str, db_url: str | None) -> str:
    args = ["records", "show", employee, "--root", str(catalog.root), "--course-dir", str(course)]
    args += ["--campaign", str(catalog.root / "campaign.yaml"), "--as-of", AS_OF]
    if db_url:
        args += ["--db", db_url]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def grade_cli(course: Path, catalog: Catalog, db_url: str | None) -> str:
    args = ["grade", "--root", str(catalog.root), "--course-dir", str(course)]
    if db_url:
        args += ["--db", db_url]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    return result.stderr


def honest_fields(catalog: Catalog, course: Path, employee: str = ATTACKER) -> dict:
    """An all-right attempt by `employee`, sealed with their key, as JSON fields."""
    qids = catalog.questions_for(MODULE, employee)
    sub = submissions.new_submission(
        employee_id=employee,
        module_id=MODULE,
        content_version=catalog.content_version(MODULE),
        rule_versions=catalog.rule_versions(MODULE),
        question_ids=qids,
        answers={q: key(catalog, q) for q in qids},
        started_at="2026-03-02T08:00:00.000Z",
        submitted_at="2026-03-02T08:10:00.000Z",
        identity_source="local",
    )
    return submissions.seal(sub, provenance.signer_for(course, employee)).to_json()


def place(course: Path, folder: str, data: dict | None, *, name: str | None = None, raw: bytes | None = None) -> Path:
    directory = submissions.store_path(course) / MODULE / folder
    directory.mkdir(parents=True, exist_ok=True)
    if name is None:
        name = f"{_stamp(data['submitted_at'])}_{data['submission_id']}.json"
    path = directory / name
    path.write_bytes(raw if raw is not None else json.dumps(data, ensure_ascii=False).encode())
    return path


def _stamp(iso: str) -> str:
    return iso.replace(":", "").replace("-", "").replace(".", "")


def resign(course: Path, data: dict) -> dict:
    fields = {k: v for k, v in data.items() if k != "signature"}
    return {**fields, "signature": provenance.signer_for(course, ATTACKER).sign(fields)}


def forge(case: dict, course: Path, catalog: Catalog, victim_sid: str, outside: Path) -> None:
    """Put the case's file into the store."""
    data = honest_fields(catalog, course)
    special = case.get("special")
    if special == "fifo":
        os.mkfifo(submissions.store_path(course) / MODULE / VICTIM / f"20260306T081000000Z_{'f' * 32}.json")
        return
    if special == "dev_zero":
        (submissions.store_path(course) / MODULE / VICTIM / f"20260306T081000000Z_{'0' * 32}.json").symlink_to(
            "/dev/zero"
        )
        return
    if special == "symlink_out":
        outside.mkdir(parents=True, exist_ok=True)
        target = outside / "kept.json"
        target.write_text(json.dumps(data), encoding="utf-8")
        folder = submissions.store_path(course) / MODULE / ATTACKER
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{_stamp(data['submitted_at'])}_{data['submission_id']}.json").symlink_to(target)
        return
    if special == "symlink_folder":
        outside.mkdir(parents=True, exist_ok=True)
        (outside / f"{_stamp(data['submitted_at'])}_{data['submission_id']}.json").write_text(json.dumps(data))
        (submissions.store_path(course) / MODULE / ATTACKER).symlink_to(outside, target_is_directory=True)
        return
    if special == "replay":
        victim_file = submissions.store_path(course) / MODULE / VICTIM / f"20260305T081000000Z_{victim_sid}.json"
        place(course, ATTACKER, None, name=victim_file.name, raw=victim_file.read_bytes())
        return
    if special == "duplicate_own":
        failing = honest_fields(catalog, course)
        failing["answers"] = {q: wrong(catalog, q) for q in failing["question_ids"]}
        failing["submission_id"] = data["submission_id"]
        place(course, ATTACKER, resign(course, failing))
        later = resign(course, {**data, "submitted_at": "2026-03-03T08:10:00.000Z"})
        place(course, ATTACKER, later)
        return
    if special == "deep":
        place(course, ATTACKER, data, raw=b"[" * 200_000 + b"]" * 200_000)
        return
    if special == "bigint":
        text = json.dumps(data).replace('"ACC-001": 1', '"ACC-001": ' + "9" * 5000, 1)
        assert "9" * 5000 in text
        place(course, ATTACKER, data, raw=text.encode())
        return
    if special == "overlong_id":
        data["submission_id"] = "a" * 200
        place(course, ATTACKER, resign(course, data), name=f"{_stamp(data['submitted_at'])}_{'a' * 200}.json")
        return
    if special == "overlong_folder":
        folder = "E" * 250
        data["employee_id"] = folder
        place(course, folder, resign(course, data), name=f"x_{data['submission_id']}.json")
        return
    changes = {
        k: (VICTIM if v == "$victim" else victim_sid if v == "$victim_sid" else v)
        for k, v in case.get("set", {}).items()
    }
    if changes.pop("wrong", False):
        data["answers"] = {q: wrong(catalog, q) for q in data["question_ids"]}
    if changes.pop("answers_tampered", False):
        stale = data["signature"]
        data["answers"] = {q: key(catalog, q) for q in data["question_ids"]}
        data["answers"][data["question_ids"][0]] = ["z"]
        data["signature"] = stale
    if changes.pop("easy_draw", False):
        pool = catalog.draw_pool(MODULE)
        easy = list(catalog.modules[MODULE].fixed) + sorted(pool)[-catalog.modules[MODULE].draw.count :]
        data["question_ids"] = easy
        data["answers"] = {q: key(catalog, q) for q in easy}
    data.update(changes)
    sign = case.get("sign", "attacker")
    if sign == "attacker":
        data = resign(course, data)
    elif sign == "none":
        data.pop("signature")
    folder = VICTIM if case.get("folder") == "victim" else ATTACKER
    place(course, folder, data)


@pytest.fixture(scope="module")
def sqlite_history(tmp_path_factory, catalog) -> tuple[Path, str]:
    """The victim's history on SQLite, built once (registering the assignment is slow)."""
    return base_course(tmp_path_factory.mktemp("history"), catalog, None)


def run_case(case: dict, tmp_path: Path, catalog: Catalog, history: tuple[Path, str]) -> None:
    """SQLite: the gradebook file is in the course directory, so a copy of the
    course is the same history in a second gradebook."""
    template, victim_sid = history
    course, attacked = tmp_path / "clean" / "course", tmp_path / "attacked" / "course"
    shutil.copytree(template, course, symlinks=True)
    shutil.copytree(template, attacked, symlinks=True)
    forge(case, attacked, catalog, victim_sid, tmp_path / "outside")
    check(case, course, attacked, catalog, None, None)


def check(case, course, attacked, catalog, db_clean, db_attacked) -> None:
    pending_clean = show(course, catalog, VICTIM, db_clean)
    assert "in_progress" not in pending_clean and "passed" in pending_clean
    started = time.monotonic()
    assert show(attacked, catalog, VICTIM, db_attacked) == pending_clean
    grade_cli(course, catalog, db_clean)
    log = grade_cli(attacked, catalog, db_attacked)
    assert time.monotonic() - started < 60, "a store file made grading or records slow"
    graded_clean = show(course, catalog, VICTIM, db_clean)
    assert show(attacked, catalog, VICTIM, db_attacked) == graded_clean
    assert "attempts 2" in graded_clean
    url = gradebook.resolve_url(attacked, db_attacked)
    if case["outcome"] == "rejected":
        assert "rejected: " in log and case["flag"] in log, log
        assert any(case["flag"] in r["reason"] for r in gradebook.rejected(url))
    else:
        flagged = gradebook.read_frames(url).attempts
        mine = flagged[flagged["employee_id"] == ATTACKER]
        assert len(mine) == 1 and case["flag"] in mine.iloc[0]["flags"], mine.to_dict("records")
        assert not mine.iloc[0]["passed"]
    mine = CliRunner().invoke(main, _show_args(attacked, catalog, ATTACKER, db_attacked))
    assert " passed " not in mine.output.replace("passed -", ""), mine.output
    # A rerun changes nothing (rejections are remembered by path).
    assert show(attacked, catalog, VICTIM, db_attacked) == graded_clean


def _show_args(course, catalog, employee, db_url):
    args = ["records", "show", employee, "--root", str(catalog.root), "--course-dir", str(course)]
    args += ["--campaign", str(catalog.root / "campaign.yaml"), "--as-of", AS_OF]
    return args + (["--db", db_url] if db_url else [])


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_forged_file_changes_no_other_record_sqlite(case, tmp_path, catalog, sqlite_history):
    run_case(case, tmp_path, catalog, sqlite_history)


def test_every_forgery_at_once_changes_no_other_record_postgresql(pg_two, tmp_path, catalog):
    """All the corpus's files in one store, graded on PostgreSQL: the victim's
    record is the one of the clean store; no batch aborts on a long string."""
    clean_url, attacked_url = pg_two
    course, victim_sid = base_course(tmp_path / "clean", catalog, clean_url)
    attacked = tmp_path / "attacked" / "course"
    shutil.copytree(course, attacked, symlinks=True)
    # Same history in the attacker's database: grade the victim's first pass there too.
    first = [p for p in submissions.paths(course, MODULE, VICTIM) if victim_sid not in p.name]
    hidden = attacked.parent / "hidden"
    hidden.mkdir()
    later = [p for p in submissions.paths(attacked, MODULE, VICTIM) if victim_sid in p.name]
    for p in later:
        p.rename(hidden / p.name)
    grader.grade(attacked, catalog, db_url=attacked_url)
    for p in later:
        (hidden / p.name).rename(p)
    assert len(first) == 1
    for number, case in enumerate(CORPUS):
        if case.get("special") == "symlink_folder":
            continue  # one attacker folder only; tested on SQLite
        sub = tmp_path / f"case{number}"
        sub.mkdir()
        forge(case, attacked, catalog, victim_sid, sub / "outside")
    pending = show(course, catalog, VICTIM, clean_url)
    assert show(attacked, catalog, VICTIM, attacked_url) == pending
    grade_cli(course, catalog, clean_url)
    log = grade_cli(attacked, catalog, attacked_url)
    graded = show(course, catalog, VICTIM, clean_url)
    assert show(attacked, catalog, VICTIM, attacked_url) == graded and "attempts 2" in graded
    for case in CORPUS:
        if case.get("special") != "symlink_folder":
            assert case["flag"] in log, (case["name"], log)
    mine = CliRunner().invoke(main, _show_args(attacked, catalog, ATTACKER, attacked_url))
    assert " passed " not in mine.output.replace("passed -", ""), mine.output


@pytest.fixture
def pg_two(pg_server, request):  # noqa: F811
    import psycopg2

    urls = []
    admin = psycopg2.connect(pg_server.replace("postgresql+psycopg2", "postgresql") + "/postgres")
    admin.autocommit = True
    for suffix in ("clean", "attacked"):
        name = f"wt_forgery_{suffix}"
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        urls.append(f"{pg_server}/{name}")
    admin.close()
    yield tuple(urls)
    for url in urls:
        gradebook.dispose(url)


# ----------------------------------------------------------------- reading is bounded and total


def test_fifo_and_dev_zero_do_not_hang_grade_or_records(tmp_path, catalog):
    """A FIFO and a symlink to /dev/zero, both named *.json, in a fresh process
    with a timeout: `grade` and `records show` finish, name both, grade the rest."""
    course, _sid = base_course(tmp_path, catalog, None)
    folder = submissions.store_path(course) / MODULE / VICTIM
    os.mkfifo(folder / f"20260306T081000000Z_{'f' * 32}.json")
    (folder / f"20260306T081000000Z_{'0' * 32}.json").symlink_to("/dev/zero")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    common = ["--root", str(catalog.root), "--course-dir", str(course)]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "wechat_training", "grade", *common],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "not a regular file" in done.stderr and "a symlink (not followed)" in done.stderr
    assert "graded 1 new submission(s)" in done.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "wechat_training", "records", "show", VICTIM, *common, "--as-of", AS_OF],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert shown.returncode == 0 and "attempts 2" in shown.stdout, shown.stdout + shown.stderr
    assert time.monotonic() - started < 110


# ----------------------------------------------------------------- one grade run at a time


def test_a_second_grade_run_exits_cleanly_while_the_first_holds_the_lock(tmp_path, catalog):
    course, _sid = base_course(tmp_path, catalog, None)
    url = gradebook.resolve_url(course)
    with gradebook.grade_lock(url):
        result = CliRunner().invoke(main, ["grade", "--root", str(catalog.root), "--course-dir", str(course)])
        assert result.exit_code == 1
        assert "another `wechat-training grade` is running" in result.stderr
        assert "Traceback" not in result.stderr + result.output
        with pytest.raises(gradebook.GradeLockBusy):
            grader.grade(course, catalog, wait=0.5)
    assert grader.grade(course, catalog).graded == 1


def test_two_overlapping_grade_processes_one_waits(tmp_path, catalog):
    """Two real `grade` processes started together with --wait: both exit 0, the
    pending attempt is stored once, no IntegrityError."""
    course, _sid = base_course(tmp_path, catalog, None)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "wechat_training", "grade", "--wait", "120", "--root", str(catalog.root)]
    command += ["--course-dir", str(course)]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    outputs = [r.communicate(timeout=240) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    assert sorted(o[0].split(" new")[0] for o in outputs) == ["graded 0", "graded 1"], outputs
    assert not any("Traceback" in o[1] for o in outputs)


def test_postgresql_grade_lock_is_an_advisory_lock(pg_two, tmp_path, catalog):
    url = pg_two[0]
    course, _sid = base_course(tmp_path, catalog, url)
    with gradebook.grade_lock(url), pytest.raises(gradebook.GradeLockBusy, match="another `wechat-training grade`"):
        grader.grade(course, catalog, db_url=url, wait=0.5)
    assert grader.grade(course, catalog, db_url=url).graded == 1


# ----------------------------------------------------------------- the portal agrees with the record


@pytest.mark.parametrize(
    "name", ["unknown_content_version_easy_draw", "inflated_rule_versions", "backdated_before_campaign_opened"]
)
def test_the_portal_never_shows_passed_for_an_attempt_the_grader_flags(name, tmp_path, catalog):
    from wechat_training.learning import status

    case = next(c for c in CORPUS if c["name"] == name)
    course = tmp_path / "course"
    forge(case, course, catalog, "0" * 32, tmp_path / "outside")
    due = next(d for d in status.modules_due(catalog, ATTACKER, grader_today()) if d.module_id == MODULE)
    shown = status.module_status(catalog, course, ATTACKER, due)
    report = grader.grade(course, catalog)
    assert report.flagged == 1
    assert shown.attempts == 1 and shown.status != status.PASSED
    # An unsigned copy in the attacker's own folder is not even an attempt, as for the grader.
    forge({"set": {}, "sign": "none"}, course, catalog, "0" * 32, tmp_path / "outside")
    assert status.module_status(catalog, course, ATTACKER, due).attempts == 1
    # The honest all-right attempt does show passed.
    place(course, ATTACKER, honest_fields(catalog, course))
    assert status.module_status(catalog, course, ATTACKER, due).status == status.PASSED


def grader_today():
    from datetime import date

    return date(2026, 3, 10)
