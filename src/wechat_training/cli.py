"""`wechat-training`: the command line. Only wires arguments to library calls.

Heavy imports (pydantic, nbgrader, pandas, voila) happen inside the commands
so that `--help` answers at once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

ROOT_HELP = (
    "Content tree holding rules/ and quizzes/ (default: $WECHAT_TRAINING_ROOT, else the current "
    "directory when it holds them, else the kit's own content in a source checkout)."
)


def _root(root: Path | None) -> Path:
    from .content.location import ContentRootError, content_root

    try:
        return content_root(root)
    except ContentRootError as exc:
        raise click.ClickException(str(exc)) from exc


root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=ROOT_HELP,
)

course_dir_option = click.option(
    "--course-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="nbgrader course directory (default: grading/ of the kit).",
)
db_option = click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Gradebook SQLAlchemy URL (default: $WECHAT_TRAINING_DB, else sqlite in the course directory).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Compliance training on company WeChat / WeCom rules.

    Trainers author rules and questions as YAML (see docs/content-format.md),
    check them, and build learner notebooks and nbgrader assignments from them.
    """


def _load(root: Path | None):
    from .content.catalog import load_catalog
    from .content.problems import ContentError

    try:
        return load_catalog(_root(root))
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(1)


@main.command()
@root_option
@click.option(
    "--strict/--lenient",
    default=False,
    help="--strict: item-writing warnings (cues a guesser could use, see docs/content-format.md) "
    "are errors and fail the check, as in CI. Default --lenient: they are printed, the check passes.",
)
def check(root: Path | None, strict: bool) -> None:
    """Validate every rule, question and module; print all problems as path:line: message.

    Then lint how the items are written (the key is the longest choice, true/false
    items are mostly false, near-duplicate scenarios…) and print each finding as
    path:line: warning: message.
    """
    from .content.item_lint import lint

    catalog = _load(root)
    findings = lint(catalog)
    if strict:
        findings = [f.as_error() for f in findings]
    for finding in findings:
        click.echo(str(finding), err=True)
    if strict and findings:
        click.echo(f"{len(findings)} problem(s) found.", err=True)
        sys.exit(1)
    if findings:
        click.echo(f"{len(findings)} warning(s).", err=True)
    click.echo(catalog.summary())
    if catalog.drafts:
        click.echo(
            f"warning: {len(catalog.drafts)} draft(s) not shown to learners until 'draft: true' is removed: "
            + ", ".join(catalog.drafts),
            err=True,
        )


@main.command()
@root_option
@click.option("--json", "as_json", is_flag=True, required=True, help="Print the catalogue as one JSON object.")
def catalog(root: Path | None, as_json: bool) -> None:
    """Print the validated catalogue (rules, questions, modules) as JSON."""
    data = _load(root).to_json()
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


# --------------------------------------------------------------------------- records (issue 5)


def _record_book(
    course_dir: Path | None, db: str | None, root: Path | None, campaign: Path | None, as_of, employee_id=None
):
    from .content.problems import ContentError
    from .records.book import open_record_book

    try:
        return open_record_book(
            _course_dir(course_dir, root),
            _root(root),
            db_url=db,
            campaign_path=campaign,
            as_of=as_of.date() if as_of else None,
            employee_id=employee_id,
        )
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(1)


def _records_options(func):
    for option in reversed(
        [
            root_option,
            course_dir_option,
            db_option,
            click.option(
                "--campaign",
                type=click.Path(exists=True, path_type=Path),
                default=None,
                help="Campaign file or directory (default: campaign.yaml at the content root).",
            ),
            click.option(
                "--as-of",
                type=click.DateTime(formats=["%Y-%m-%d"]),
                default=None,
                help="Freeze the picture at the end of this day (UTC): later attempts are ignored.",
            ),
        ]
    ):
        func = option(func)
    return func


@main.group()
def records() -> None:
    """Training records per employee and module: export them for HR, or show one person's."""


@records.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "xapi"]), required=True, help="File format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@_records_options
def records_export(fmt: str, out: Path, root, course_dir, db, campaign, as_of) -> None:
    """Write every record as Excel-safe CSV, XLSX (with a department summary) or xAPI statements."""
    from .records import exports

    book = _record_book(course_dir, db, root, campaign, as_of)
    try:
        exports.write(book.records, fmt, out, home_page=book.campaign.home_page, module_titles=book.module_titles())
    except exports.ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {len(book.records)} records as of {book.as_of} to {out}")


@records.command("show")
@click.argument("employee_id")
@_records_options
def records_show(employee_id: str, root, course_dir, db, campaign, as_of) -> None:
    """Print one employee's record for every module."""
    import pandas as pd

    from .records import rollup as R

    book = _record_book(course_dir, db, root, campaign, as_of, employee_id=employee_id)
    try:
        mine = R.employee_records(book.records, employee_id)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from exc
    first = mine.iloc[0]
    click.echo(
        f"{first[R.EMPLOYEE_ID]}  {first[R.NAME]}  {first[R.DEPARTMENT]} / {first[R.ROLE]}  (as of {book.as_of})"
    )
    for row in mine.itertuples(index=False):
        score = "-" if row.best_score != row.best_score else f"{row.best_score:g}/{row.max_score:g}"
        passed = "-" if row.passed_at is pd.NaT else f"{row.passed_at:%Y-%m-%d}"
        line = (
            f"  {row.module_id:<18} {row.status:<13} best {score:<7} attempts {row.attempts:<3} "
            f"due {row.due_date or '-'}  passed {passed}  valid until {row.valid_until or '-'}"
        )
        if row.note:
            line += f"  ({row.note})"
        click.echo(line)


@main.command()
@root_option
@click.option("--port", type=int, default=8866, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--course-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Course directory holding the submission store (default: grading/ of the kit).",
)
@click.option(
    "--employee",
    default=None,
    help="Local single-user mode: the employee id every page is for (default: a fictional demo employee).",
)
@click.option("--employee-name", default=None, help="Name shown for --employee.")
@click.option(
    "--trusted-header",
    default=None,
    metavar="HEADER",
    help="Behind an authenticating proxy: take the employee id from this request header (e.g. X-Remote-User).",
)
@click.option("--pool-size", type=int, default=2, show_default=True, help="Preheated kernels kept ready per page.")
@click.option(
    "--idle-timeout",
    type=int,
    default=30,
    show_default=True,
    help="Seconds after which the kernel of a closed tab is shut down.",
)
@click.option(
    "--fork-kernels/--spawn-kernels",
    default=True,
    show_default=True,
    help="Fork learner kernels from a warm template process (fast, shared memory) or spawn each one fresh.",
)
def serve(
    root: Path | None,
    port: int,
    course_dir: Path | None,
    employee: str | None,
    employee_name: str | None,
    trusted_header: str | None,
    pool_size: int,
    idle_timeout: int,
    fork_kernels: bool,
) -> None:
    """Start the learner portal (Voila on 127.0.0.1) with preheated kernels."""
    from .learning.server import DEMO_EMPLOYEE, DEMO_EMPLOYEE_NAME, ServeOptions
    from .learning.server import serve as run
    from .submissions.store import check_employee_id

    catalog = _load(root)
    if employee is not None:
        try:
            check_employee_id(employee)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--employee") from exc
    demo = employee is None and trusted_header is None
    options = ServeOptions(
        root=_root(root).resolve(),
        course_dir=_course_dir(course_dir, root),
        port=port,
        employee=DEMO_EMPLOYEE if demo else employee,
        employee_name=DEMO_EMPLOYEE_NAME if demo else (employee_name or ""),
        trusted_header=trusted_header,
        pool_size=pool_size,
        portal_pool_size=pool_size,
        idle_timeout=idle_timeout,
        # Check often enough that a closed tab's kernel is gone within idle_timeout + 10 s.
        cull_interval=max(1, min(10, idle_timeout // 3)),
        fork_kernels=fork_kernels,
    )
    who = f"header {trusted_header}" if trusted_header else f"employee {options.employee}"
    click.echo(f"Portal for {who}: http://127.0.0.1:{port}/  (Ctrl+C to stop)")
    run(options, sorted(catalog.modules))


# --------------------------------------------------------------------------- grading (issue 4)


def _course_dir(course_dir: Path | None, root: Path | None = None) -> Path:
    """--course-dir, else grading/ beside the content."""
    return (course_dir or _root(root) / "grading").resolve()


@main.command()
@root_option
@course_dir_option
@click.option(
    "--notebooks-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the learner notebooks go (default: notebooks/ of the kit).",
)
def build(root: Path | None, course_dir: Path | None, notebooks_dir: Path | None) -> None:
    """Build from the catalogue: learner notebooks (notebooks/) and nbgrader source
    assignments (source/<module>/<module>.ipynb). Same catalogue, same bytes."""
    from .assessment import assignments
    from .learning import notebooks as learner_notebooks

    catalog = _load(root)
    for path in learner_notebooks.write(notebooks_dir or _root(root) / "notebooks", catalog.modules):
        click.echo(f"wrote {path}")
    for path in assignments.build(catalog, _course_dir(course_dir, root)):
        click.echo(f"wrote {path}")


@main.command()
@root_option
@click.option("--module", default=None, help="Grade only this module.")
@click.option(
    "--since", default=None, metavar="TIME", help="Only submissions made at or after this ISO date/time (UTC)."
)
@course_dir_option
@db_option
def grade(root: Path | None, module: str | None, since: str | None, course_dir: Path | None, db: str | None) -> None:
    """Grade every new submission in the store into the nbgrader gradebook (safe, idempotent)."""
    from .assessment import grader
    from .assessment.gradebook import GradebookError
    from .content.problems import ContentError

    catalog = _load(root)
    try:
        since_time = grader.parse_since(since) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if not sys.stderr.isatty():
            # A bar redrawn with \r is noise in a log file: one line per batch instead.
            if total:
                click.echo(f"grading {done}/{total}", err=True)
            return
        if bar is None and total:
            bar = click.progressbar(length=total, label="grading", file=sys.stderr, show_pos=True)
            bar.__enter__()
        if bar is not None:
            bar.update(done - bar.pos)

    try:
        report = grader.grade(
            _course_dir(course_dir, root), catalog, db_url=db, module=module, since=since_time, progress=progress
        )
    except ContentError as exc:  # an invalid campaign.yaml
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    except (ValueError, GradebookError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for _path, reason in report.rejected:
        click.echo(f"rejected: {reason}", err=True)
    for employee_id, module_id, submission_id, flags in report.flagged_attempts:
        click.echo(f"flagged: {employee_id} {module_id} {submission_id}: {flags}", err=True)
    click.echo(
        f"graded {report.graded} new submission(s) in {report.seconds:.1f} s "
        f"({report.already} already graded, {report.flagged} flagged, {report.late} late, "
        f"{len(report.rejected)} rejected)"
    )


@main.group()
def roster() -> None:
    """The employee roster in the gradebook."""


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@course_dir_option
@db_option
def roster_import(file: Path, course_dir: Path | None, db: str | None) -> None:
    """Import FILE.csv or FILE.xlsx (English or Chinese headers); re-import updates."""
    from .assessment import gradebook
    from .records.roster import RosterError, import_roster

    try:
        report = import_roster(file, gradebook.resolve_url(_course_dir(course_dir), db))
    except RosterError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing imported.", err=True)
        sys.exit(1)
    except gradebook.GradebookError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{report.rows} employee(s): {report.added} added, {report.updated} updated, {report.unchanged} unchanged"
    )


# --------------------------------------------------------------------------- authoring (issue 10)


@main.group()
def new() -> None:
    """Add a commented draft skeleton to the right YAML file, with the next free id.

    The skeleton is appended after the file's last item (comments and order kept),
    marked `draft: true` so `check` passes and learners never see it; fill every
    TODO, look at it with `preview`, then delete the `draft: true` line."""


def _added(added) -> None:
    click.echo(f"added {added.ident}: edit {added.path}:{added.line}")
    click.echo(f"then: wechat-training preview {added.ident}")


@new.command("rule")
@click.argument("area")
@root_option
def new_rule(area: str, root: Path | None) -> None:
    """Add a draft rule to rules/AREA.yaml (AREA: account_security, publishing, ...)."""
    from .authoring.skeletons import AuthoringError, add_rule

    try:
        _added(add_rule(_root(root), area))
    except AuthoringError as exc:
        raise click.ClickException(str(exc)) from exc


@new.command("question")
@click.argument("rule_id")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["single", "multiple", "true_false", "scenario"]),
    default="scenario",
    show_default=True,
    help="Question type; a scenario is a chat plus one right action.",
)
@root_option
def new_question(rule_id: str, kind: str, root: Path | None) -> None:
    """Add a draft question testing RULE_ID to quizzes/questions/<its area>.yaml."""
    from .authoring.skeletons import AuthoringError, add_question

    try:
        _added(add_question(_root(root), rule_id, kind))
    except AuthoringError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.argument("item_id")
@root_option
@click.option("--port", type=int, default=8867, show_default=True, help="Port on 127.0.0.1.")
def preview(item_id: str, root: Path | None, port: int) -> None:
    """Show ITEM_ID (a question, rule or module id; drafts too) as the learner sees it.

    Practice mode (nothing is recorded) served by Voila at http://127.0.0.1:PORT/;
    the page redraws within a second of a YAML file being saved. In JupyterLab the
    same page is one cell: `from wechat_training.learning.preview import preview;
    preview("Q-GRP-004")`."""
    from .content.catalog import load_catalog
    from .content.problems import ContentError
    from .learning.preview import make_app, target

    content = _root(root).resolve()
    try:
        target(load_catalog(content, include_drafts=True), item_id)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from exc
    app = make_app(item_id, content, port)
    click.echo(f"Preview of {item_id}: http://127.0.0.1:{port}/  (Ctrl+C to stop)")
    app.start()


BANK_FORMATS = {"moodle": ".xml", "gift": ".gift", "xlsx": ".xlsx"}


@main.group()
def bank() -> None:
    """The question bank in other platforms' formats, both ways.

    moodle: Moodle XML (import it in Moodle's question bank); gift: Moodle's GIFT text;
    xlsx: the Excel template of Chinese e-learning platforms (题型, 题干, 选项A…, 答案, 解析, 知识点).
    Ids travel as Moodle idnumber (GIFT: the question name), rule citations as tags
    rule:ID, both languages as Moodle multilang spans. Drafts are not exported."""


@bank.command("export")
@click.option("--format", "fmt", type=click.Choice(sorted(BANK_FORMATS)), required=True, help="File format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@root_option
def bank_export(fmt: str, out: Path, root: Path | None) -> None:
    """Write every published question to OUT."""
    from .authoring import gift, moodle_xml, question_sheet
    from .authoring.interchange import InterchangeError

    questions = list(_load(root).questions.values())
    try:
        if fmt == "xlsx":
            question_sheet.write(questions, out)
        else:
            text = moodle_xml.export(questions) if fmt == "moodle" else gift.export(questions)
            if fmt == "moodle" and (problems := moodle_xml.validate(text, str(out))):
                raise InterchangeError(problems)
            out.write_text(text, encoding="utf-8")
    except InterchangeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {len(questions)} questions to {out}")


@bank.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Content root to write quizzes/questions/<area>.yaml into (its rules/ are what the questions cite).",
)
@click.option("--replace", is_flag=True, help="Overwrite existing question files of the imported areas.")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(BANK_FORMATS)), default=None,
    help="File format (default: from the extension .xml, .gift/.txt, .xlsx).",
)
def bank_import(file: Path, into: Path, replace: bool, fmt: str | None) -> None:
    """Read FILE (Moodle XML, GIFT or xlsx) into YAML question files.

    Every question is checked first; on any problem (named by question, or sheet and row)
    nothing is written. Run `wechat-training check --root INTO` afterwards."""
    from .authoring import gift, moodle_xml, question_sheet
    from .authoring.interchange import InterchangeError, write_questions

    suffix = file.suffix.lower()
    fmt = fmt or {".xml": "moodle", ".gift": "gift", ".txt": "gift", ".xlsx": "xlsx"}.get(suffix)
    if fmt is None:
        raise click.BadParameter(f"cannot tell the format of {file.name}: pass --format", param_hint="FILE")
    reader = {"moodle": moodle_xml.read, "gift": gift.read, "xlsx": question_sheet.read}[fmt]
    try:
        questions = reader(file)
        written = write_questions(questions, into, replace=replace)
    except InterchangeError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing written.", err=True)
        sys.exit(1)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"imported {len(questions)} questions; now run: wechat-training check --root {into}")


@main.command()
@click.argument("old_ref")
@click.argument("new_ref", required=False)
@root_option
@course_dir_option
@db_option
@click.option("--with-gradebook/--without-gradebook", default=None,
              help="Count passes that would expire (default: when --course-dir or --db is given).")
def diff(old_ref: str, new_ref: str | None, root, course_dir, db, with_gradebook) -> None:
    """What publishing a content change costs: OLD_REF against NEW_REF (default: the content as it is now).

    Each is a git revision of the repository holding the content (HEAD, main, a tag) or a folder.
    Lists rules whose version was bumped and the modules citing them, how many current passes
    would expire (from the gradebook), and warns of rules whose text changed without a bump."""
    import tempfile

    from .authoring.diff import DiffError, compare, expiring_passes, load_both
    from .content.problems import ContentError

    content = _root(root)
    with tempfile.TemporaryDirectory(prefix="wechat-training-diff-") as scratch:
        try:
            old, new = load_both(old_ref, new_ref, content, Path(scratch))
        except DiffError as exc:
            raise click.ClickException(str(exc)) from exc
        except ContentError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(1)
    changes = compare(old, new)
    for bump in changes.bumped:
        cited = ", ".join(bump.modules) or "no module"
        click.echo(f"bumped {bump.rule_id} v{bump.old} -> v{bump.new}: cited by {cited}")
    for rid in changes.added_rules:
        click.echo(f"added rule {rid}")
    for rid in changes.removed_rules:
        click.echo(f"removed rule {rid}")
    for label, ids in (
        ("added", changes.added_questions),
        ("changed", changes.changed_questions),
        ("removed", changes.removed_questions),
    ):
        if ids:
            click.echo(f"questions {label}: {', '.join(ids)}")
    for module in changes.changed_modules:
        click.echo(f"module {module}: questions or keys changed (new content version)")
    for rid in changes.text_changed_same_version:
        click.echo(
            f"warning: {rid} text changed but its version did not: bump 'version' if the meaning changed, "
            "so passes on the old wording expire",
            err=True,
        )
    if with_gradebook or (with_gradebook is None and (course_dir or db)):
        book = _record_book(course_dir, db, root, None, None)
        counts = expiring_passes(book.records, changes)
        for module, count in counts.items():
            click.echo(f"{module}: {count} current pass(es) would expire")
        click.echo(f"{sum(counts.values())} pass(es) would expire in all")
    elif changes.bumped:
        click.echo("no gradebook: pass --course-dir or --db to count the passes that would expire")
    if not (
        changes.bumped
        or changes.added_rules
        or changes.removed_rules
        or changes.changed_modules
        or changes.added_questions
        or changes.changed_questions
        or changes.removed_questions
        or changes.text_changed_same_version
    ):
        click.echo("no changes to rules or modules")


@main.command()
@click.option("--by", "by", type=click.Choice(["rule", "department"]), default="rule", show_default=True,
              help="rule: miss rate per rule over everyone; department: per department and rule.")
@click.option("--min-group", type=int, default=None,
              help="Hide groups smaller than this (default: $WECHAT_TRAINING_MIN_GROUP, else 5, as the dashboard).")
@_records_options
def analytics(by: str, min_group: int | None, root, course_dir, db, campaign, as_of) -> None:
    """Which rules learners miss most, from the graded answers (worst first)."""
    import os

    from .records import analytics as A
    from .records import rollup as R
    from .records.dashboard import MIN_GROUP_VARIABLE

    size = min_group or int(os.environ.get(MIN_GROUP_VARIABLE) or A.DEFAULT_MIN_GROUP)
    book = _record_book(course_dir, db, root, campaign, as_of)
    employees = book.records[[R.EMPLOYEE_ID, R.DEPARTMENT]].drop_duplicates(R.EMPLOYEE_ID)
    rates = (A.rule_miss_rates_overall if by == "rule" else A.rule_miss_rates)(book.answers, employees, size)
    if rates.empty:
        click.echo(f"no group of at least {size} people has answered yet")
        return
    click.echo(rates.to_string(index=False))
    click.echo(f"(groups smaller than {size} people hidden)")
