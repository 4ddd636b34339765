"""`build`, `grade`, `roster`: nbgrader assignments, grading and the roster."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import main
from .options import (
    course_dir_option,
    course_dir_or_default,
    db_option,
    load_or_exit,
    resolve_root,
    root_option,
    write_directory,
)


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
    from ..assessment import assignments, gradebook, grader
    from ..learning import notebooks as learner_notebooks

    catalog = load_or_exit(root)
    for path in learner_notebooks.write(notebooks_dir or resolve_root(root) / "notebooks", catalog.modules):
        click.echo(f"wrote {path}")
    course = course_dir_or_default(course_dir, root)
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
@click.option(
    "--workers",
    type=click.IntRange(min=0, max=16),
    default=None,
    metavar="N",
    help="Processes that read, verify and score files while this one writes the gradebook "
    "[default: one fewer than the cores, at most 2, none for a small run; 0: none].",
)
@course_dir_option
@db_option
def grade(
    root: Path | None,
    module: str | None,
    since: str | None,
    wait: float,
    workers: int | None,
    course_dir: Path | None,
    db: str | None,
) -> None:
    """Grade every new submission in the store into the nbgrader gradebook (safe, idempotent).

    Only files the portal provably wrote count (signed with the employee's key);
    others are listed as rejected. One run at a time per gradebook."""
    from ..assessment import grader
    from ..assessment.gradebook import GradebookError
    from ..content.problems import ContentError

    catalog = load_or_exit(root)
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
            course_dir_or_default(course_dir, root),
            catalog,
            db_url=db,
            module=module,
            since=since_time,
            progress=progress,
            wait=wait,
            workers=workers,
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
    from ..assessment import gradebook
    from ..records.roster import RosterError, import_roster

    try:
        report = import_roster(file, gradebook.resolve_url(course_dir_or_default(course_dir), db))
    except RosterError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing imported.", err=True)
        sys.exit(1)
    except gradebook.GradebookError as exc:
        raise click.ClickException(str(exc)) from exc
    write_directory(course_dir_or_default(course_dir), gradebook.resolve_url(course_dir_or_default(course_dir), db))
    click.echo(
        f"{report.rows} employee(s): {report.added} added, {report.updated} updated, {report.unchanged} unchanged"
    )
