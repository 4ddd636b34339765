"""`wechat-training`: the command line. Only wires arguments to library calls.

Heavy imports (pydantic, nbgrader, pandas, voila) happen inside the commands
so that `--help` answers at once.
"""

from __future__ import annotations

import json
import os
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
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the XLSX headings, statuses and module titles (the CSV keeps its machine columns).",
)
@_records_options
def records_export(fmt: str, out: Path, lang: str, root, course_dir, db, campaign, as_of) -> None:
    """Write every record as XLSX for HR (opens right in Excel and LibreOffice), CSV for other
    systems (UTF-8 with BOM, machine columns: docs/records-format.md) or xAPI statements."""
    from .records import exports

    book = _record_book(course_dir, db, root, campaign, as_of)
    try:
        exports.write(
            book.records, fmt, out, home_page=book.campaign.home_page, module_titles=book.module_titles(), lang=lang
        )
    except exports.ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    _warn_audience(book)
    click.echo(f"wrote {len(book.records)} records as of {book.as_of} to {out}")


def _warn_audience(book) -> None:
    # A campaign naming "Sales" for a roster's 销售部 assigns nobody: say so, by name (issue 14).
    for problem in book.audience_problems():
        click.echo(f"warning: {problem}", err=True)


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
    if not demo:
        _refresh_directory(options.course_dir)
    who = f"header {trusted_header}" if trusted_header else f"employee {options.employee}"
    click.echo(f"Portal for {who}: http://127.0.0.1:{port}/  (Ctrl+C to stop)")
    if os.environ.get("WECHAT_TRAINING_CERT_KEY"):
        _serve_certificates(options)
    run(options, sorted(catalog.modules))


def _refresh_directory(course_dir: Path) -> None:
    # Names by id for the portal behind a proxy or JupyterHub, from the gradebook's roster
    # as it is now; without a gradebook there is nothing to read (and none is created).
    import os

    from .assessment.gradebook.database import DB_ENV, DB_FILE, resolve_url

    if os.environ.get(DB_ENV) or (course_dir / DB_FILE).is_file():
        _write_directory(course_dir, resolve_url(course_dir))


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
    help="Where the learner notebooks go (default: notebooks/ beside the content, see --root).",
)
@db_option
def build(root: Path | None, course_dir: Path | None, notebooks_dir: Path | None, db: str | None) -> None:
    """Build from the catalogue: learner notebooks (notebooks/) and nbgrader source
    assignments (source/<module>/<module>.ipynb). Same catalogue, same bytes.
    Also records the modules' content versions as published in the gradebook
    (the grader accepts submissions of published versions only)."""
    from .assessment import assignments, gradebook, grader
    from .learning import notebooks as learner_notebooks

    catalog = _load(root)
    for path in learner_notebooks.write(notebooks_dir or _root(root) / "notebooks", catalog.modules):
        click.echo(f"wrote {path}")
    course = _course_dir(course_dir, root)
    for path in assignments.build(catalog, course):
        click.echo(f"wrote {path}")
    try:
        fresh = grader.publish_versions(catalog, gradebook.resolve_url(course, db))
    except gradebook.GradebookError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"recorded {fresh} new published content version(s)")


@main.command()
@root_option
@click.option("--module", default=None, help="Grade only this module.")
@click.option(
    "--since", default=None, metavar="TIME", help="Only submissions made at or after this ISO date/time (UTC)."
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="If another grade run holds the gradebook's lock, wait this long for it before giving up.",
)
@course_dir_option
@db_option
def grade(
    root: Path | None, module: str | None, since: str | None, wait: float, course_dir: Path | None, db: str | None
) -> None:
    """Grade every new submission in the store into the nbgrader gradebook (safe, idempotent).

    Only files the portal provably wrote count (signed with the employee's key);
    others are listed as rejected. One run at a time per gradebook."""
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
            _course_dir(course_dir, root),
            catalog,
            db_url=db,
            module=module,
            since=since_time,
            progress=progress,
            wait=wait,
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
    _write_directory(_course_dir(course_dir), gradebook.resolve_url(_course_dir(course_dir), db))
    click.echo(
        f"{report.rows} employee(s): {report.added} added, {report.updated} updated, {report.unchanged} unchanged"
    )


def _write_directory(course_dir: Path, db_url: str) -> None:
    """The roster names learner kernels greet people by (they never open the gradebook)."""
    from .assessment import gradebook
    from .learning import directory

    directory.write(course_dir, gradebook.employees(db_url))


# --------------------------------------------------------------------------- many employees: JupyterHub (issue 13)

HUB_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "jupyterhub" / "jupyterhub_config.py"


@main.command()
@root_option
@click.option("--port", type=int, default=8000, show_default=True, help="Port of the hub on 127.0.0.1.")
@course_dir_option
@db_option
@click.option(
    "--hub-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the hub keeps its own state (user database, cookie secret; default: COURSE_DIR/jupyterhub).",
)
@click.option("--hr", "hr_users", multiple=True, metavar="USER", help="Put USER in the `hr` group (repeatable).")
@click.option(
    "--trainer", "trainers", multiple=True, metavar="USER", help="Put USER in the `trainers` group (repeatable)."
)
@click.option("--admin", "admins", multiple=True, metavar="USER", help="Make USER a hub admin (repeatable).")
@click.option(
    "--demo-password",
    envvar="WECHAT_TRAINING_HUB_PASSWORD",
    default=None,
    help="DEMO ONLY: the one password every user name logs in with ($WECHAT_TRAINING_HUB_PASSWORD; "
    "at least 8 characters). A company configures its SSO instead (deploy/README.md).",
)
@click.option("--grade-every", type=int, default=300, show_default=True, help="Seconds between grading runs.")
@click.option(
    "--pool-size", type=int, default=2, show_default=True, help="Preheated portal kernels kept ready per page."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JupyterHub config file (default: the kit's deploy/jupyterhub/jupyterhub_config.py).",
)
def hub(
    root: Path | None,
    port: int,
    course_dir: Path | None,
    db: str | None,
    hub_dir: Path | None,
    hr_users: tuple[str, ...],
    trainers: tuple[str, ...],
    admins: tuple[str, ...],
    demo_password: str | None,
    grade_every: int,
    pool_size: int,
    config_file: Path | None,
) -> None:
    """Start JupyterHub on 127.0.0.1 for many employees: login, the portal, the HR dashboard, grading.

    Employees log in and land on their portal (their roster row picks the modules);
    `hr` reaches the dashboard and exports, `trainers` JupyterLab on the content.
    Import the roster first (`wechat-training roster import`, same --course-dir/--db).
    """
    import os
    import shutil

    from .assessment import gradebook

    config = config_file or HUB_CONFIG
    if not config.is_file():
        raise click.ClickException(f"no JupyterHub config at {config}: pass --config FILE")
    for program in ("jupyterhub", "configurable-http-proxy"):
        if shutil.which(program) is None:
            raise click.ClickException(f"{program} is not installed: run `make setup` (scripts/setup.sh)")
    # The kit's config logs in with the demo password; a company config (--config) has its SSO.
    if config_file is None and (not demo_password or len(demo_password) < 8):
        raise click.BadParameter(
            "give the demo login password (8 characters or more), or configure SSO in --config",
            param_hint="--demo-password",
        )
    catalog_root = _root(root).resolve()
    course = _course_dir(course_dir, root)
    state = (hub_dir or course / "jupyterhub").resolve()
    state.mkdir(parents=True, exist_ok=True)
    db_url = gradebook.resolve_url(course, db)
    env = {
        **os.environ,
        "WECHAT_TRAINING_ROOT": str(catalog_root),
        "WECHAT_TRAINING_COURSE_DIR": str(course),
        "WECHAT_TRAINING_DB": db_url,
        "WECHAT_TRAINING_HUB_PORT": str(port),
        "WECHAT_TRAINING_HUB_DIR": str(state),
        "WECHAT_TRAINING_HUB_PASSWORD": demo_password or "",
        "WECHAT_TRAINING_HUB_HR": ",".join(hr_users),
        "WECHAT_TRAINING_HUB_TRAINERS": ",".join(trainers),
        "WECHAT_TRAINING_HUB_ADMINS": ",".join(admins),
        "WECHAT_TRAINING_GRADE_EVERY": str(grade_every),
        "WECHAT_TRAINING_HUB_POOL_SIZE": str(pool_size),
    }
    click.echo(f"JupyterHub on http://127.0.0.1:{port}/  (state in {state}; Ctrl+C to stop)")
    # The hub replaces this process: Ctrl+C and SIGTERM reach it directly, and it
    # stops the proxy and services it started.
    os.chdir(state)
    os.execvpe("jupyterhub", ["jupyterhub", "-f", str(config)], env)


@main.group("hub-service", hidden=True)
def hub_service() -> None:
    """Services the hub starts (see deploy/jupyterhub/jupyterhub_config.py); not for people."""


service_course_dir = click.option(
    "--course-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="WECHAT_TRAINING_COURSE_DIR",
    default=None,
    help="Course directory (default: $WECHAT_TRAINING_COURSE_DIR).",
)


def _hub_service():
    from .learning.hub_portal import HubServiceError, take_hub_token

    try:
        return take_hub_token()
    except HubServiceError as exc:
        raise click.ClickException(str(exc)) from exc


@hub_service.command("portal")
@root_option
@service_course_dir
@db_option
@click.option("--pool-size", type=int, default=2, show_default=True, help="Preheated kernels kept ready per page.")
@click.option("--idle-timeout", type=int, default=180, show_default=True, help="Seconds before an idle kernel goes.")
def hub_service_portal(
    root: Path | None, course_dir: Path | None, db: str | None, pool_size: int, idle_timeout: int
) -> None:
    """The learner portal shared by every employee, identity from the hub, profile from the roster."""
    from .assessment import gradebook
    from .learning.hub_portal import Profile
    from .learning.server import ServeOptions
    from .learning.server import serve as run

    service = _hub_service()
    catalog = _load(root)
    course = _course_dir(course_dir, root)
    db_url = gradebook.resolve_url(course, db)

    def lookup(login: str) -> Profile | None:
        row = gradebook.employee_by_login(db_url, login)
        if row is None:
            return None
        return Profile(
            **{k: str(row.get(k) or "") for k in ("employee_id", "name", "department", "role", "manager")},
            hire_date=str(row.get("hire_date") or ""),
        )

    options = ServeOptions(
        root=_root(root).resolve(),
        course_dir=course,
        port=service.port,
        employee=None,
        pool_size=pool_size,
        portal_pool_size=pool_size,
        # Under a burst of logins a shorter timeout culled kernels before the browser connected.
        idle_timeout=idle_timeout,
        cull_interval=10,
        hub=service,
        profile_lookup=lookup,
    )
    run(options, sorted(catalog.modules))


@hub_service.command("dashboard")
@root_option
def hub_service_dashboard(root: Path | None) -> None:
    """The HR dashboard for hub users holding access to this service (group `hr`)."""
    from .learning.hub_portal import notebook_app

    service = _hub_service()
    notebook = _root(root) / "notebooks" / "hr_dashboard.ipynb"
    if not notebook.is_file():
        notebook = HUB_CONFIG.parents[2] / "notebooks" / "hr_dashboard.ipynb"
    notebook_app(notebook, service).start()


@hub_service.command("grader")
@root_option
@service_course_dir
@db_option
@click.option("--every", type=int, default=300, show_default=True, help="Seconds between runs.")
@click.pass_context
def hub_service_grader(ctx: click.Context, root: Path | None, course_dir: Path | None, db: str | None, every: int):
    """Run `grade` now and then every EVERY seconds, so records stay current; a failed run is logged, not fatal."""
    import time

    while True:
        try:
            ctx.invoke(grade, root=root, module=None, since=None, course_dir=course_dir, db=db)
        except (click.ClickException, SystemExit) as exc:
            click.echo(f"grading run failed: {exc}", err=True)
        sys.stdout.flush()
        time.sleep(every)


# --------------------------------------------------------------------------- reminders and certificates (issue 12)

REMIND_HELP = """Remind employees of open training and tell managers about overdue reports.

One message per employee with mandatory modules not started, in progress,
failed (due within the campaign's remind_days), overdue or expired, or a pass
expiring within remind_days; Chinese first, English below, with module titles,
due dates and the campaign's portal_url. One digest per manager (roster column
上级/manager) of reports overdue for more than escalate_after_days.

Every message is logged in the gradebook database (wt_reminder): a rerun on the
same day sends nothing new, and after a crash the next run goes on without
duplicates (a message caught mid-send is reported as in doubt, not resent).

\b
--via email: WECHAT_TRAINING_SMTP_HOST, _PORT (587), _STARTTLS (1|0), _USER,
             _PASSWORD, _FROM, _FROM_NAME, _CAFILE (environment only)
--via wecom: WECHAT_TRAINING_WECOM_WEBHOOK (group robot URL with its key);
             20 messages a minute at most, @-mentions from the roster's
             企业微信/wecom_userid column
--via file:  --out DIR (one .eml per message) or --out FILE.jsonl
"""


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _echo_table(rows: list[list[str]]) -> None:
    widths = [max(_display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [c + " " * (w - _display_width(c)) for c, w in zip(row, widths, strict=True)]
        click.echo("  ".join(cells).rstrip())


@main.command(help=REMIND_HELP)
@click.option("--via", type=click.Choice(["email", "wecom", "file"]), default=None, help="Delivery channel.")
@click.option("--dry-run", is_flag=True, help="Print what would be sent, as a table; send nothing.")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="With --via file: a directory, or FILE.jsonl."
)
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True, help="Retries per message.")
@click.option("--retry-in-doubt", is_flag=True, help="Send again messages a crashed run may or may not have sent.")
@_records_options
def remind(via, dry_run, out, retries, retry_in_doubt, root, course_dir, db, campaign, as_of) -> None:
    import os

    from .assessment import gradebook
    from .records import delivery, reminders
    from .records.reminder_log import ReminderLog

    if via is None and not dry_run:
        raise click.UsageError("choose a channel with --via email|wecom|file (or look first with --dry-run)")
    if via == "file" and out is None:
        raise click.UsageError("--via file needs --out DIR or --out FILE.jsonl")
    # Settings first: a missing SMTP host is reported before any database is opened.
    channel = None if dry_run else _reminder_channel(via, out, os.environ)
    book = _record_book(course_dir, db, root, campaign, as_of)
    url = gradebook.resolve_url(_course_dir(course_dir, root), db)
    plan = reminders.plan_for_book(book, url)
    for problem in plan.problems:
        click.echo(f"warning: {problem}", err=True)
    if dry_run:
        logged = ReminderLog.peek(url)
        rows = [["to", "id", "name", "address", "state", "modules"]]
        for r in plan.reminders:
            address = r.wecom_userid if via == "wecom" else r.email
            state = "already sent" if getattr(logged.get(r.key), "state", "") == "sent" else "would send"
            if via in (None, "email") and not r.email:
                state = "no email"
            for n, item in enumerate(r.items):
                who = item.employee_id + " " if r.kind == reminders.MANAGER else ""
                first = [r.kind, r.recipient_id, r.name, address or "-", state] if n == 0 else [""] * 5
                when = (
                    f"until {item.valid_until}" if item.state == reminders.EXPIRING else f"due {item.due_date or '-'}"
                )
                rows.append([*first, f"{who}{item.module_id} {item.state} {when}"])
        _echo_table(rows)
        click.echo(
            f"{len(plan.employees)} employee reminder(s), {len(plan.managers)} manager digest(s) as of {plan.day}"
        )
        return
    try:
        report = delivery.deliver(plan, channel, ReminderLog(url), retries=retries, retry_in_doubt=retry_in_doubt)
    finally:
        getattr(channel, "close", lambda: None)()
    for outcome in report.failed:
        r = outcome.reminder
        click.echo(
            f"failed: {r.kind} {r.recipient_id} {r.name} after {outcome.tries} try(s): {outcome.detail}", err=True
        )
    for outcome in report.in_doubt:
        r = outcome.reminder
        click.echo(f"in doubt: {r.kind} {r.recipient_id} {r.name}: {outcome.detail}", err=True)
    click.echo(
        f"{report.sent} sent via {via}, {report.already} already sent, {len(report.failed)} failed, "
        f"{len(report.in_doubt)} in doubt (as of {plan.day})"
    )
    if report.failed or report.in_doubt:
        sys.exit(1)


def _reminder_channel(via: str, out: Path | None, environ):
    from .records.channels import files, smtp, wecom

    try:
        if via == "email":
            return smtp.SmtpChannel(smtp.SmtpSettings.from_environment(environ))
        if via == "wecom":
            return wecom.WeComChannel(wecom.webhook_from_environment(environ))
    except (smtp.SmtpSettingsError, wecom.WeComSettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    return files.FileChannel(out, sender=environ.get("WECHAT_TRAINING_SMTP_FROM") or files.DEFAULT_SENDER)


class _CertificateGroup(click.Group):
    """`certificate EID MODULE` issues one; `certificate bulk|verify ...` are subcommands."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_CertificateGroup)
def certificate() -> None:
    """Certificates for passed modules: a one-page PDF with a verification code.

    \b
      wechat-training certificate EID MODULE --out FILE.pdf
      wechat-training certificate bulk --from 2027-01-01 --to 2027-01-31 --out-dir DIR
      wechat-training certificate verify CODE

    The code is an HMAC over the certificate's fields with the secret key in
    $WECHAT_TRAINING_CERT_KEY (the same key must be set to verify); issued
    certificates are kept in the gradebook database (wt_certificate).
    """


def _certificate_register(course_dir, db, root):
    from .assessment import gradebook
    from .records.certificates import CertificateError, CertificateRegister, key_from_environment

    try:
        key = key_from_environment()
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    return CertificateRegister(gradebook.resolve_url(_course_dir(course_dir, root), db), key)


def _module_titles(book) -> dict[str, tuple[str, str]]:
    return {m.id: (m.title.zh, m.title.en) for m in book.catalog.modules.values()}


@certificate.command("issue", hidden=True)
@click.argument("employee_id")
@click.argument("module")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF file to write.")
@_records_options
def certificate_issue(employee_id, module, out, root, course_dir, db, campaign, as_of) -> None:
    """Write the certificate of EMPLOYEE_ID's latest pass of MODULE."""
    from .records import certificate_document
    from .records.certificates import CertificateError, certificate_for, format_code

    register = _certificate_register(course_dir, db, root)
    book = _record_book(course_dir, db, root, campaign, as_of)
    try:
        cert = certificate_for(book.records, _module_titles(book), employee_id, module)
        code = register.issue(cert)
        certificate_document.write(cert, code, out)
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {out}: {cert.name} {cert.module_id} passed {cert.passed_on}, code {format_code(code)}")


@certificate.command("bulk")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="First pass day.")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="Last pass day.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for PDFs.")
@_records_options
def certificate_bulk(start, end, out_dir, root, course_dir, db, campaign, as_of) -> None:
    """One PDF per employee and module passed between --from and --to (inclusive), named EID_MODULE.pdf."""
    from .records import certificate_document
    from .records.certificates import CertificateError, passed_between

    register = _certificate_register(course_dir, db, root)
    book = _record_book(course_dir, db, root, campaign, as_of)
    try:
        certs = passed_between(book.records, _module_titles(book), start.date(), end.date())
        for cert in certs:
            certificate_document.write(cert, register.issue(cert), out_dir / f"{cert.employee_id}_{cert.module_id}.pdf")
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {len(certs)} certificate(s) for passes {start:%Y-%m-%d}..{end:%Y-%m-%d} to {out_dir}")


@certificate.command("verify")
@click.argument("code")
@course_dir_option
@db_option
@root_option
@click.option("--on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Check validity on this day.")
def certificate_verify(code, course_dir, db, root, on) -> None:
    """Say whether CODE belongs to a genuine certificate and whether it is still valid (exit 1 if not)."""
    from .records import rollup as R

    day = on.date() if on else R.today()
    result = _certificate_register(course_dir, db, root).verify(code, day)
    click.echo(result.describe(day))
    if result.status != "genuine" or not result.still_valid:
        sys.exit(1)


def _serve_certificates(options) -> None:
    """Let `serve` offer each employee a download of their own certificate (issue 12).

    Wired here because it needs the records (a pass is what the gradebook says) and the
    learner layer may not import them. Identity as for the pages: the --employee of a
    single-user portal, the trusted header behind a proxy, or JUPYTERHUB_USER.
    """
    import asyncio

    from tornado.web import HTTPError, RequestHandler

    from .learning.identity import HUB_VARIABLE
    from .learning.widgets.portal_view import CERTIFICATE_LINK_VARIABLE

    def pdf_for(employee_id: str, module_id: str) -> tuple[bytes, str]:
        from .assessment import gradebook
        from .records import certificate_document
        from .records.book import open_record_book
        from .records.certificates import CertificateRegister, certificate_for, key_from_environment

        book = open_record_book(options.course_dir, options.root)
        titles = {m.id: (m.title.zh, m.title.en) for m in book.catalog.modules.values()}
        cert = certificate_for(book.records, titles, employee_id, module_id)
        code = CertificateRegister(gradebook.resolve_url(options.course_dir), key_from_environment()).issue(cert)
        return certificate_document.render(cert, code), f"{employee_id}_{module_id}.pdf"

    class CertificateDownload(RequestHandler):
        async def get(self, module_id: str) -> None:
            from .records.certificates import CertificateError

            if options.trusted_header:
                employee_id = self.request.headers.get(options.trusted_header, "")
            else:
                employee_id = os.environ.get(HUB_VARIABLE) or options.employee or ""
            if not employee_id:
                raise HTTPError(403, "no employee identity on this request")
            try:
                # Reading the records takes a moment: off the event loop that serves the kernels.
                data, name = await asyncio.to_thread(pdf_for, employee_id, module_id)
            except CertificateError as exc:
                self.set_status(404)
                self.set_header("Content-Type", "text/plain; charset=utf-8")
                self.finish(f"暂无证书：成绩登记后即可下载。No certificate yet (it is issued once graded): {exc}\n")
                return
            self.set_header("Content-Type", "application/pdf")
            self.set_header("Content-Disposition", f'attachment; filename="{name}"')
            self.set_header("Cache-Control", "no-store")
            self.finish(data)

    options.extra_handlers.append((r"certificate/([A-Za-z0-9_]+)\.pdf", CertificateDownload, {}))
    options.extra_env[CERTIFICATE_LINK_VARIABLE] = (
        "../../certificate/{module}.pdf"  # relative to /voila/render/portal.ipynb: works under any base URL
    )
