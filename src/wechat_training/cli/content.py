"""`check` and `catalog`: validate and print the content."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import main
from .options import (
    load_or_exit,
    root_option,
)


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
    from ..content.item_lint import lint

    catalog = load_or_exit(root)
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
    data = load_or_exit(root).to_json()
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))
