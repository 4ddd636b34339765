"""Options and helpers every command group shares."""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT_HELP = (
    "Content tree holding rules/ and quizzes/ (default: $WECHAT_TRAINING_ROOT, else the current "
    "directory when it holds them, else the kit's own content in a source checkout)."
)


def resolve_root(root: Path | None) -> Path:
    from ..content.location import ContentRootError, content_root

    try:
        return content_root(root)
    except ContentRootError as exc:
        raise click.ClickException(str(exc)) from exc


#: Preheated kernels kept ready per page, as `ServeOptions.pool_size` (learning.server says why
#: one); kept here so `--help` does not import the server.
POOL_SIZE = 1

pool_size_option = click.option(
    "--pool-size",
    type=int,
    default=POOL_SIZE,
    show_default=True,
    help="Preheated kernels kept ready per page (each idle one holds ~25 MB; a taken one is replaced at once).",
)

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


def load_or_exit(root: Path | None):
    from ..content.catalog import load_catalog
    from ..content.problems import ContentError

    try:
        return load_catalog(resolve_root(root))
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(1)


def record_book_or_exit(
    course_dir: Path | None, db: str | None, root: Path | None, campaign: Path | None, as_of, employee_id=None
):
    from ..content.problems import ContentError
    from ..records.book import open_record_book

    try:
        return open_record_book(
            course_dir_or_default(course_dir, root),
            resolve_root(root),
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


def records_options(func):
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


def course_dir_or_default(course_dir: Path | None, root: Path | None = None) -> Path:
    """--course-dir, else grading/ beside the content."""
    return (course_dir or resolve_root(root) / "grading").resolve()


def write_directory(course_dir: Path, db_url: str) -> None:
    """The roster names learner kernels greet people by (they never open the gradebook; issue 14)."""
    from ..assessment import gradebook
    from ..learning import directory

    directory.write(course_dir, gradebook.employees(db_url))


def refresh_directory(course_dir: Path) -> None:
    """Rewrite the directory from the gradebook's roster as it is now; without a gradebook
    there is nothing to read (and none is created)."""
    import os

    from ..assessment.gradebook.database import DB_ENV, DB_FILE, resolve_url

    if os.environ.get(DB_ENV) or (course_dir / DB_FILE).is_file():
        write_directory(course_dir, resolve_url(course_dir))
