"""Benchmark: stock `nbgrader autograde` vs our safe bulk grader, side by side.

    python benchmarks/grading.py [--submissions 10000] [--sample 10] [--root DIR] [--db sqlite|postgresql|URL]

Writes N fictional portal submissions (all six modules, a spread of right and
wrong answers) to a temporary course directory, then

- stock: turns a SAMPLE of them into nbgrader notebook submissions (the
  release notebook with the same answers filled in) and runs nbgrader's own
  autograde on them (a kernel per notebook, in-process API);
- ours: grades ALL N store submissions into the gradebook (`grader.grade`).

Prints submissions per second for each, the ratio, whether the scores of the
sampled submissions agree, where our seconds went (find, read, verify, score,
insert) and the ceiling: reading and parsing every file plus ONE batched
insert of the very rows ours wrote, with how close ours comes to it. With
`--db postgresql` a throwaway PostgreSQL server is started in the temporary
directory. Nothing is written outside a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from throwaway_postgres import Postgres

from wechat_training.assessment import assignments, gradebook, grader
from wechat_training.content.catalog import Catalog, load_catalog
from wechat_training.content.location import content_root
from wechat_training.submissions import store as submissions


def fictional_submissions(course: Path, catalog: Catalog, count: int, seed: int = 7) -> list[submissions.Submission]:
    rng = random.Random(seed)
    modules = sorted(catalog.modules)
    written = []
    for n in range(count):
        module_id = modules[n % len(modules)]
        employee = f"B{n // len(modules):06d}"
        qids = catalog.questions_for(module_id, employee)
        answers = {}
        for qid in qids:
            question = catalog.questions[qid]
            key = sorted(question.correct_choice_ids())
            options = ["true", "false"] if question.type == "true_false" else [c.id for c in question.choices]
            answers[qid] = key if rng.random() < 0.75 else [rng.choice(options)]
        sub = submissions.new_submission(
            employee_id=employee,
            module_id=module_id,
            content_version=catalog.content_version(module_id),
            rule_versions=catalog.rule_versions(module_id),
            question_ids=qids,
            answers=answers,
            # Inside the shipped campaign's window (opens 2026-11-02): an attempt before it is flagged.
            started_at="2026-11-10T08:00:00.000Z",
            submitted_at=f"2026-11-10T08:{10 + n // 60000:02d}:{(n // 1000) % 60:02d}.{n % 1000:03d}Z",
            identity_source="local",
        )
        submissions.write(course, sub)
        written.append(sub)
    return written


def as_notebook(release: Path, sub: submissions.Submission, catalog: Catalog) -> nbformat.NotebookNode:
    """The release notebook answered as the portal submission was."""
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata["nbgrader"].get("grade_id", "")
        if not gid.endswith(assignments.ANSWER_SUFFIX):
            continue
        qid = assignments.question_id(gid[: -len(assignments.ANSWER_SUFFIX)])
        picked = sub.answers.get(qid)
        if not picked:
            continue
        if catalog.questions[qid].type == "true_false":
            cell.source = f"answer = {picked[0] == 'true'}"
        else:
            cell.source = f"answer = {json.dumps(picked)}"
    return nb


def stock_autograde(course: Path, db_url: str, modules: list[str]) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = db_url
    config.CourseDirectory.course_id = gradebook.COURSE_ID
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for module_id in modules:
        result = api.autograde(module_id, "*", force=True, create=True)
        if not result["success"]:
            raise SystemExit(f"stock autograde of {module_id} failed:\n{result.get('error') or result.get('log')}")
    with Gradebook(db_url, gradebook.COURSE_ID) as gb:
        return {(s.assignment.name, s.student_id): s.score for m in modules for s in gb.assignment_submissions(m)}


#: The tables a grading run writes, parents first.
WRITTEN_TABLES = ("wt_attempt", "wt_answer", "submitted_assignment", "submitted_notebook", "grade", "comment")
TARGETS = {"sqlite": 2000.0, "postgresql": 1500.0}


def _rows_written(db_url: str) -> int:
    import sqlalchemy as sa

    with gradebook.engine_for(db_url).connect() as conn:
        return sum(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in WRITTEN_TABLES)


def read_parse_seconds(course: Path) -> float:
    """Reading every store file and parsing its JSON, nothing else: the floor under any grader."""
    started = time.perf_counter()
    for path in submissions.paths(course):
        json.loads(path.read_bytes())
    return time.perf_counter() - started


def one_batched_insert_seconds(db_url: str) -> float:
    """The rows ours wrote, taken out and written back in ONE transaction with the
    gradebook's own bulk insert (executemany on SQLite, COPY on PostgreSQL)."""
    import sqlalchemy as sa

    from wechat_training.assessment.gradebook import database as D

    engine = gradebook.engine_for(db_url)
    tables = sa.MetaData()
    tables.reflect(engine, only=WRITTEN_TABLES)
    with engine.begin() as conn:
        saved = {t: [dict(r) for r in conn.execute(sa.select(tables.tables[t])).mappings()] for t in WRITTEN_TABLES}
        for name in reversed(WRITTEN_TABLES):
            conn.execute(tables.tables[name].delete())
    started = time.perf_counter()
    with engine.begin() as conn:
        for name in WRITTEN_TABLES:
            for chunk in D.chunks(saved[name], 100_000):
                D.insert_many(conn, tables.tables[name], chunk)
    return time.perf_counter() - started


def print_breakdown(report: grader.GradeReport, seconds: float, ceiling_seconds: float, read_parse: float) -> None:
    judging = ("read", "verify", "score")
    print(f"where ours spent its {seconds:.2f} s:")
    if report.workers:
        print(f"  in {report.workers} worker process(es), beside the main process's insert (their seconds overlap it):")
        for phase in judging:
            print(f"    {phase:<7} {report.phases.get(phase, 0.0):6.2f} s")
        print("  in the main process:")
        shown = ("find", "insert")
    else:
        shown = ("find", *judging, "insert")
    accounted = 0.0
    for phase in shown:
        spent = report.phases.get(phase, 0.0)
        accounted += spent
        print(f"    {phase:<7} {spent:6.2f} s  {100 * spent / seconds:4.0f} %")
    other = seconds - accounted
    what = "unpickling, waiting for workers, batching" if report.workers else "batching, progress"
    print(f"    {'other':<7} {other:6.2f} s  {100 * other / seconds:4.0f} %  ({what})")
    rate = report.graded / ceiling_seconds
    print(
        f"ceiling (read + parse {read_parse:.2f} s, one batched insert {ceiling_seconds - read_parse:.2f} s): "
        f"{rate:.0f} submissions/s; ours reaches {100 * report.graded / seconds / rate:.0f} % of it"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=10000, help="portal submissions graded by ours")
    parser.add_argument("--sample", type=int, default=10, help="of which stock nbgrader autogrades this many")
    parser.add_argument("--root", type=Path, default=None, help="content root (default: the shipped content)")
    parser.add_argument(
        "--db",
        default="sqlite",
        help="gradebook for ours: sqlite (in the temp course), postgresql (a throwaway server) or a URL",
    )
    args = parser.parse_args()

    catalog = load_catalog(content_root(args.root))
    work = Path(tempfile.mkdtemp(prefix="wt-bench-"))
    stack = contextlib.ExitStack()
    try:
        ours_course, stock_course = work / "ours", work / "stock"
        print(f"writing {args.submissions} fictional submissions ...", file=sys.stderr)
        subs = fictional_submissions(ours_course, catalog, args.submissions)
        if args.db == "postgresql":
            work.chmod(0o755)  # the server runs as the postgres user and must reach its data
            db_url = stack.enter_context(Postgres(work / "pg" / "data")).url
        else:
            db_url = gradebook.default_url(ours_course) if args.db == "sqlite" else args.db

        # Registering assignments (nbgrader generate_assignment) is setup, not grading: both sides get it first.
        print("registering assignments with nbgrader ...", file=sys.stderr)
        gradebook.ensure_schema(db_url)
        for module_id in sorted(catalog.modules):
            grader.registered(ours_course, db_url, catalog, module_id)
        stock_course.mkdir()
        shutil.copytree(ours_course / "source", stock_course / "source")
        shutil.copytree(ours_course / "release", stock_course / "release")
        stock_db = gradebook.default_url(stock_course)
        gradebook.ensure_schema(stock_db)
        for module_id in sorted(catalog.modules):
            gradebook.register_assignment(stock_course, stock_db, module_id)

        sample = random.Random(11).sample(subs, min(args.sample, len(subs)))
        for sub in sample:
            folder = stock_course / "submitted" / sub.employee_id / sub.module_id
            folder.mkdir(parents=True)
            release = stock_course / "release" / sub.module_id / f"{sub.module_id}.ipynb"
            nbformat.write(as_notebook(release, sub, catalog), folder / f"{sub.module_id}.ipynb")

        print(f"stock nbgrader autograde on {len(sample)} notebooks ...", file=sys.stderr)
        started = time.perf_counter()
        stock_scores = stock_autograde(stock_course, stock_db, sorted({s.module_id for s in sample}))
        stock_seconds = time.perf_counter() - started

        print(f"ours on all {len(subs)} submissions ...", file=sys.stderr)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        report = grader.grade(ours_course, catalog, db_url=db_url)
        our_seconds = time.perf_counter() - started

        # The grader keys attempts by its own submission id; each fictional employee
        # submits a module once, so (module, employee) names the attempt.
        attempts = gradebook.read_frames(db_url).attempts.set_index(["module_id", "employee_id"])
        agree = sum(
            1
            for s in sample
            if stock_scores.get((s.module_id, s.employee_id)) == attempts.loc[(s.module_id, s.employee_id), "score"]
        )
        stock_rate = len(sample) / stock_seconds
        our_rate = report.graded / our_seconds
        rows = _rows_written(db_url)
        read_parse = read_parse_seconds(ours_course)
        ceiling_seconds = read_parse + one_batched_insert_seconds(db_url)
        dialect = db_url.split(":", 1)[0].split("+", 1)[0]
        target = TARGETS.get(dialect)
        print(f"content: {catalog.summary()}; database: {dialect}; load average before: {load:.1f}")
        print(
            f"stock nbgrader autograde: {len(sample)} submissions in {stock_seconds:.1f} s "
            f"= {stock_rate:.2f} submissions/s"
        )
        verdict = f"target {target:.0f}/s: {'met' if our_rate >= target else 'MISSED'}" if target else "no target"
        print(
            f"ours (safe bulk grader):  {report.graded} submissions in {our_seconds:.2f} s "
            f"= {our_rate:.0f} submissions/s ({verdict}; {report.flagged} flagged, {len(report.rejected)} rejected)"
        )
        print(f"ratio ours/stock: {our_rate / stock_rate:.0f}x")
        print(
            f"database rows written per submission: {rows / max(report.graded, 1):.1f} "
            "(an attempt, its answers, nbgrader's submission and a grade row per question asked)"
        )
        print(f"scores agree on the sample: {agree}/{len(sample)}")
        print_breakdown(report, our_seconds, ceiling_seconds, read_parse)
        gradebook.dispose(db_url)
        gradebook.dispose(stock_db)
        if agree != len(sample):
            raise SystemExit(1)
    finally:
        stack.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
