"""Benchmark: training records export, ours vs `nbgrader export`, then ours at 100,000 x 6.

    python benchmarks/records.py [--employees 2000] [--big 100000] [--skip-nbgrader]
                                 [--commands sqlite,postgresql] [--skip-frames]

Part 1 builds one real SQLite gradebook (synthetic content tree of 3 modules,
nbgrader assignments, roster and graded attempts written through
`wechat_training.assessment.gradebook`) and times, in this process, nbgrader's stock
CsvExportPlugin against ours (read the gradebook + roll up + CSV), side by side.
Part 2 times ours alone on synthetic gradebook frames of 100,000 employees x 6
modules: roll-up, CSV, XLSX (and the XLSX writer against xlsxwriter's
constant_memory mode on the same frame, when xlsxwriter is installed).
Part 3 (issue 11) times what HR really runs: `wechat-training records export
--format csv|xlsx|xapi` and `records show` as whole processes against a
SQLite and a PostgreSQL gradebook of the same 100,000 x 6, with each process's
peak RSS. The gradebooks are built once and cached under
/var/tmp/wechat-training-bench or $WECHAT_TRAINING_BENCH_CACHE (they hold our roster and attempt tables, which
is all the records read; nbgrader's mirror tables stay empty). PostgreSQL is a
throwaway server started from /usr/lib/postgresql/*/bin on a free port.
Everything else is written under a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the gradebook filler shared with the tests

from throwaway_postgres import Postgres

from wechat_training.content.campaign import Campaign
from wechat_training.content.schema import AREA_PREFIX, AREAS
from wechat_training.records import exports
from wechat_training.records import rollup as R

DEPARTMENTS = [
    "Sales",
    "Customer Service",
    "Wealth Management",
    "Marketing",
    "Operations",
    "Finance",
    "IT",
    "HR",
    "Legal",
    "Risk",
]
ROLES = ["Staff", "Relationship Manager", "Team Lead", "Manager"]
AS_OF = date(2026, 4, 1)


def content_tree(root: Path, modules: list[str]) -> None:
    """A small valid content tree: per module 2 rules, 6 questions, 2 fixed + 2 drawn."""
    for sub in ("rules", "quizzes/questions", "quizzes/modules"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    text = {"zh": "文字", "en": "Text"}
    for area in modules:
        p = AREA_PREFIX[area]
        rules = [
            {
                "id": f"{p}-00{i}",
                "area": area,
                "title": text,
                "text": text,
                "why": text,
                "severity": "red_line" if i == 1 else "major",
                "source": [{"file": "000_0cd102e73d5ed378.txt", "section": "一"}],
                "version": 1,
            }
            for i in (1, 2)
        ]
        questions = [
            {
                "id": f"Q-{p}-00{i}",
                "type": "single",
                "rules": [f"{p}-00{2 - i % 2}"],
                "prompt": text,
                "choices": [{"id": "a", "text": text, "correct": True}, {"id": "b", "text": text}],
                "explanation": text,
            }
            for i in range(1, 7)
        ]
        module = {
            "id": area,
            "title": {"zh": area, "en": area},
            "intro": text,
            "fixed": [f"Q-{p}-001", f"Q-{p}-002"],
            "draw": {"count": 2},
            "pass_mark": 0.75,
            "red_line_questions": [f"Q-{p}-001"],
        }
        for sub, key, data in (
            ("rules", "rules", rules),
            ("quizzes/questions", "questions", questions),
            ("quizzes/modules", "module", module),
        ):
            (root / sub / f"{area}.yaml").write_text(yaml.safe_dump({key: data}, allow_unicode=True), encoding="utf-8")


def roster(n: int, rng: random.Random) -> list[dict]:
    return [
        {
            "employee_id": f"E{i:06d}",
            "name": f"员工{i}, Test",
            "department": rng.choice(DEPARTMENTS),
            "role": rng.choice(ROLES),
            "email": f"e{i:06d}@corp.example",
            "manager": f"E{rng.randrange(n):06d}",
            "hire_date": "2020-01-01",
        }
        for i in range(n)
    ]


def timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"  {label:<44} {seconds:8.2f} s", flush=True)
    return result, seconds


def part_nbgrader(n: int, work: Path) -> None:
    import records_gradebook as G
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    from wechat_training.assessment import gradebook
    from wechat_training.content.catalog import load_catalog
    from wechat_training.records.book import open_record_book

    modules = list(AREAS[:3])
    root = work / "content"
    content_tree(root, modules)
    catalog = load_catalog(root)
    course = work / "course"
    course.mkdir()
    url = gradebook.default_url(course)
    rng = random.Random(5)
    print(f"\nPart 1: {n} employees x {len(modules)} modules, SQLite gradebook (filling it...)", flush=True)
    G.register_modules(url, catalog, modules)
    people = roster(n, rng)
    G.add_roster(url, people)
    rows = []
    for person in people:
        for module in modules:
            if rng.random() < 0.85:  # some never submit: nbgrader writes 0 for them, we write not_started
                when = datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(minutes=rng.randrange(80 * 24 * 60))
                rows.append(G.graded_attempt(catalog, person["employee_id"], module, when, rng.random() < 0.8, rng))
    G.store(url, rows)
    gradebook.dispose(url)
    (course / "campaign.yaml").write_text(
        "campaigns:\n  - id: bench\n    title: {zh: 培训, en: Training}\n    open_date: 2026-01-05\n"
        f"    due_date: 2026-03-31\n    audience: {{everyone: true}}\n    modules: [{', '.join(modules)}]\n",
        encoding="utf-8",
    )
    print(f"  {len(rows)} graded attempts stored", flush=True)

    def stock() -> None:
        plugin = CsvExportPlugin(to=str(work / "nbgrader.csv"))
        with Gradebook(url, gradebook.COURSE_ID) as gb:
            plugin.export(gb)

    def ours() -> None:
        book = open_record_book(course, root, db_url=url, campaign_path=course / "campaign.yaml", as_of=AS_OF)
        exports.write_csv(book.records, work / "ours.csv")

    _, ours_s = timed("ours: read gradebook + records + CSV", ours)
    _, stock_s = timed("nbgrader export (stock CsvExportPlugin)", stock)
    print(f"  ratio nbgrader / ours: {stock_s / ours_s:.1f}x")


def big_frames(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gradebook-shaped frames (as `gradebook.read_frames` returns) for n employees x 6 modules."""
    ids = np.char.add("E", np.char.zfill(np.arange(n).astype(str), 7)).astype(object)
    employees = pd.DataFrame(
        {
            "employee_id": ids,
            "name": np.char.add("员工", np.arange(n).astype(str)).astype(object),
            "department": np.array(DEPARTMENTS, dtype=object)[rng.integers(0, len(DEPARTMENTS), n)],
            "role": np.array(ROLES, dtype=object)[rng.integers(0, len(ROLES), n)],
            "email": "",
            "manager": "E0000001",
            "hire_date": None,
        }
    )
    emp = np.repeat(ids, len(AREAS))
    mod = np.tile(np.array(AREAS, dtype=object), n)
    keep = rng.random(len(emp)) < 0.9
    emp, mod = emp[keep], mod[keep]
    # A second attempt for a fifth of them.
    again = rng.random(len(emp)) < 0.2
    emp, mod = np.concatenate([emp, emp[again]]), np.concatenate([mod, mod[again]])
    m = len(emp)
    start = pd.Timestamp("2026-01-05", tz="UTC")
    submitted = start + pd.to_timedelta(rng.integers(0, 90 * 24 * 3600, m), unit="s")
    score = rng.integers(0, 5, m).astype(float)
    versions = {a: {f"{AREA_PREFIX[a]}-001": 1, f"{AREA_PREFIX[a]}-002": 1} for a in AREAS}
    attempts = pd.DataFrame(
        {
            "submission_id": np.char.add("s", np.arange(m).astype(str)).astype(object),
            "employee_id": emp,
            "module_id": mod,
            "content_version": "cv1",
            "rule_versions": [versions[x] for x in mod],
            "started_at": submitted - pd.Timedelta(minutes=5),
            "submitted_at": submitted,
            "score": score,
            "max_score": 4.0,
            "passed": score >= 3,
            "red_line_misses": (score < 2).astype(int),
            "late": False,
            "flags": "",
        }
    )
    return employees, attempts


def openpyxl_xlsx(records: pd.DataFrame, out: Path) -> None:
    """The same cells through openpyxl's write-only mode (what workbook.py replaces)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("records")
    cols = exports.columns(records, safe_text=False)
    sheet.append([c.name for c in cols])
    values = [[*c.values, None] for c in cols]
    for i in range(len(records)):
        sheet.append([v[c.codes[i]] for v, c in zip(values, cols, strict=True)])
    book.save(out)


def part_big(n: int, work: Path) -> None:
    print(f"\nPart 2: ours alone, {n} employees x {len(AREAS)} modules (synthetic gradebook frames)", flush=True)
    employees, attempts = big_frames(n, np.random.default_rng(7))
    print(f"  {len(attempts)} attempts", flush=True)
    campaign = Campaign.default()
    current = {a: {f"{AREA_PREFIX[a]}-001": 1, f"{AREA_PREFIX[a]}-002": 2 if a == "oversight" else 1} for a in AREAS}
    records, t1 = timed(
        "records roll-up", R.build_records, employees, attempts, campaign, rule_versions=current, as_of=AS_OF
    )
    _, t2 = timed(f"CSV ({len(records)} rows)", exports.write_csv, records, work / "big.csv")
    _, t3 = timed("XLSX (records + departments sheets)", exports.write_xlsx, records, work / "big.xlsx")
    total = t1 + t2 + t3
    print(
        f"  total {total:.2f} s (target < 10 s: {'met' if total < 10 else 'NOT met'}); "
        f"CSV {(work / 'big.csv').stat().st_size / 1e6:.0f} MB, XLSX {(work / 'big.xlsx').stat().st_size / 1e6:.0f} MB"
    )

    print("\nWhy not openpyxl for XLSX: the same cells side by side")
    sample = records.iloc[:20_000]
    _, ours = timed("XLSX, first 20,000 records: ours", exports.write_xlsx, sample, work / "sample.xlsx")
    _, theirs = timed("XLSX, first 20,000 records: openpyxl write-only", openpyxl_xlsx, sample, work / "sample2.xlsx")
    print(f"  ratio openpyxl / ours: {theirs / ours:.1f}x")
    try:
        import xlsxwriter  # noqa: F401 - a benchmark-only comparison
    except ImportError:
        print("  xlsxwriter not installed (pip install xlsxwriter): constant_memory comparison skipped")
        return
    sample = records.iloc[:60_000]
    _, ours = timed("XLSX, first 60,000 records: ours", exports.write_xlsx, sample, work / "sample3.xlsx")
    _, theirs = timed(
        "XLSX, first 60,000 records: xlsxwriter constant_memory", xlsxwriter_xlsx, sample, work / "sample4.xlsx"
    )
    verdict = "keep ours" if theirs > 1.5 * ours else "use xlsxwriter (within 1.5x)"
    print(f"  ratio xlsxwriter / ours: {theirs / ours:.1f}x (issue 11: switch if within 1.5x) -> {verdict}")


#: Outside the tree and outside /root: PostgreSQL runs as its own user and must reach its data.
CACHE = Path(os.environ.get("WECHAT_TRAINING_BENCH_CACHE", "/var/tmp/wechat-training-bench"))
#: Bump when the synthetic gradebook changes shape, so a stale cache is rebuilt.
CACHE_VERSION = 1
COMMAND_TARGETS = {"csv": 10.0, "xlsx": 15.0, "xapi": None, "show": 1.0}
RSS_TARGET_GB = 3.0


def fill_gradebook(url: str, employees: pd.DataFrame, attempts: pd.DataFrame) -> None:
    """Write the frames into our roster and attempt tables, as `roster import` and `grade` would."""
    from wechat_training.assessment import gradebook
    from wechat_training.assessment.gradebook import database as D

    gradebook.ensure_schema(url)
    engine = D.engine_for(url)
    now = D.utc_text()
    people = [
        {**{c: r[c] for c in D.EMPLOYEE_COLUMNS}, "hire_date": None, "updated_at": now}
        for r in employees.to_dict("records")
    ]
    text = attempts.copy()
    text["rule_versions"] = [json.dumps(v, sort_keys=True) for v in text["rule_versions"]]
    for column in ("started_at", "submitted_at"):
        text[column] = text[column].dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    text["red_line_misses"] = ["Q-X-001" if n else "" for n in text["red_line_misses"]]
    rows = [
        {**r, "graded_at": now, "source": "portal", "passed": bool(r["passed"]), "late": bool(r["late"])}
        for r in text.to_dict("records")
    ]
    with engine.begin() as conn:
        for chunk in D.chunks(people, 20_000):
            D.insert_many(conn, D.employee_table, chunk)
        for chunk in D.chunks(rows, 20_000):
            D.insert_many(conn, D.attempt_table, chunk)
    gradebook.dispose(url)


def cached_gradebook(kind: str, n: int, stack) -> str:
    """The URL of a cached gradebook of n employees x 6 modules (built on first use)."""
    from wechat_training.assessment.gradebook import database as D

    CACHE.mkdir(parents=True, exist_ok=True)
    stamp = CACHE / f"{kind}-{n}-v{CACHE_VERSION}.done"
    if kind == "sqlite":
        url = f"sqlite:///{CACHE / f'records-{n}-v{CACHE_VERSION}.db'}"
    else:
        url = stack.enter_context(Postgres(CACHE / f"pg-{n}-v{CACHE_VERSION}" / "data")).url
    if not stamp.exists():
        print(f"  building the {kind} gradebook of {n} x {len(AREAS)} (cached for next time)...", flush=True)
        start = time.perf_counter()
        if kind == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            import sqlalchemy as sa

            with D.engine_for(url).begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            D.dispose(url)
        employees, attempts = big_frames(n, np.random.default_rng(7))
        fill_gradebook(url, employees, attempts)
        stamp.write_text(f"{len(attempts)} attempts\n")
        print(f"  built in {time.perf_counter() - start:.0f} s: {stamp.read_text().strip()}", flush=True)
    return url


#: Runs the command and prints its peak RSS in kB and its CPU seconds. A small launcher, because a child forked
#: straight from this (large) process would count the parent's pages in its ru_maxrss.
LAUNCHER = (
    "import resource, subprocess, sys; "
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
    "sys.stderr.buffer.write(done.stderr); "
    "use = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(use.ru_maxrss, use.ru_utime + use.ru_stime); sys.exit(done.returncode)"
)


def timed_command(args: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in GB) of one whole `wechat-training` process.

    On a shared machine the wall time includes waiting for a core; the CPU time
    (user + system) is what the command itself costs."""
    import subprocess

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-m", "wechat_training", *args], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"wechat-training {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    rss_kb, cpu = done.stdout.split()[-2:]
    return seconds, float(cpu), int(rss_kb) / 1024 / 1024


def part_commands(n: int, work: Path, kinds: list[str]) -> None:
    print(f"\nPart 3: whole commands against a {n} x {len(AREAS)} gradebook", flush=True)
    root = work / "content-6"
    content_tree(root, list(AREAS))
    (root / "campaign.yaml").write_text(
        "campaigns:\n  - id: bench\n    title: {zh: 培训, en: Training}\n    open_date: 2026-01-05\n"
        f"    due_date: 2026-03-31\n    audience: {{everyone: true}}\n    modules: [{', '.join(AREAS)}]\n",
        encoding="utf-8",
    )
    course = work / "course-empty"
    course.mkdir()
    print(f"  load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = f"{'database':<11} {'command':<32} {'wall s':>7} {'CPU s':>6} {'target':>7} {'peak RSS':>9}"
    print(f"  {header}  result (on CPU s)")
    with contextlib.ExitStack() as stack:
        for kind in kinds:
            url = cached_gradebook(kind, n, stack)
            common = ["--root", str(root), "--course-dir", str(course), "--db", url, "--as-of", "2026-04-01"]
            for what in ("csv", "xlsx", "xapi", "show"):
                if what == "show":
                    args = ["records", "show", f"E{n // 2:07d}", *common]
                    label = "records show EID"
                else:
                    args = ["records", "export", "--format", what, "--out", str(work / f"out.{what}"), *common]
                    label = f"records export --format {what}"
                seconds, cpu, rss = timed_command(args)
                target = COMMAND_TARGETS[what]
                met = [] if target is None else ["met" if cpu <= target else "MISSED"]
                met.append("RSS met" if rss <= RSS_TARGET_GB else "RSS MISSED")
                shown = f"{target:.0f} s" if target else "-"
                print(
                    f"  {kind:<11} {label:<32} {seconds:7.2f} {cpu:6.2f} {shown:>7} {rss:7.2f} GB  {', '.join(met)}",
                    flush=True,
                )


def xlsxwriter_xlsx(records: pd.DataFrame, out: Path) -> None:
    """The same cells through xlsxwriter's constant_memory mode."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    sheet = book.add_worksheet("records")
    cols = exports.columns(records, safe_text=False)
    sheet.write_row(0, 0, [c.name for c in cols])
    values = [[*c.values, None] for c in cols]
    for i in range(len(records)):
        sheet.write_row(i + 1, 0, [v[c.codes[i]] for v, c in zip(values, cols, strict=True)])
    book.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=2000, help="employees in part 1 (nbgrader side by side)")
    parser.add_argument("--big", type=int, default=100_000, help="employees in part 2 (ours alone)")
    parser.add_argument("--skip-nbgrader", action="store_true", help="skip part 1")
    parser.add_argument("--skip-frames", action="store_true", help="skip part 2")
    parser.add_argument(
        "--commands", default="sqlite,postgresql", help="databases for part 3, comma-separated ('' to skip)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wt-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_nbgrader:
            part_nbgrader(args.employees, work)
        if not args.skip_frames:
            part_big(args.big, work)
        kinds = [k for k in args.commands.split(",") if k]
        if kinds:
            part_commands(args.big, work, kinds)


if __name__ == "__main__":
    main()
