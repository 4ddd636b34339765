"""`records`: training records for HR."""

from __future__ import annotations

from pathlib import Path

import click

from . import main
from .options import (
    record_book_or_exit,
    records_options,
)


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
@records_options
def records_export(fmt: str, out: Path, lang: str, root, course_dir, db, campaign, as_of) -> None:
    """Write every record as XLSX for HR (opens right in Excel and LibreOffice), CSV for other
    systems (UTF-8 with BOM, machine columns: docs/records-format.md) or xAPI statements."""
    from ..records import exports

    book = record_book_or_exit(course_dir, db, root, campaign, as_of)
    try:
        exports.write(
            book.records, fmt, out, home_page=book.campaign.home_page, module_titles=book.module_titles(), lang=lang
        )
    except exports.ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    # A campaign naming "Sales" for a roster's 销售部 assigns nobody: say so, by name (issue 14).
    for problem in book.audience_problems():
        click.echo(f"warning: {problem}", err=True)
    click.echo(f"wrote {len(book.records)} records as of {book.as_of} to {out}")


@records.command("show")
@click.argument("employee_id")
@records_options
def records_show(employee_id: str, root, course_dir, db, campaign, as_of) -> None:
    """Print one employee's record for every module."""
    import pandas as pd

    from ..records import rollup as R

    book = record_book_or_exit(course_dir, db, root, campaign, as_of, employee_id=employee_id)
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
