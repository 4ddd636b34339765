"""`wechat-training`: the command line. Only wires arguments to library calls.

Heavy imports (pydantic, nbgrader, pandas, voila) happen inside the commands
so that `--help` answers at once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

DEFAULT_ROOT = Path(__file__).resolve().parents[2]
ROOT_HELP = "Content tree holding rules/ and quizzes/ (default: the kit's own content)."


def default_root() -> Path:
    """The shipped content: the repository top for an editable install."""
    return DEFAULT_ROOT


root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=ROOT_HELP,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Compliance training on company WeChat / WeCom rules.

    Trainers author rules and questions as YAML (see docs/content-format.md),
    check them, and build learner notebooks and nbgrader assignments from them.
    """


def _load(root: Path | None):
    from .catalog import load_catalog
    from .problems import ContentError

    try:
        return load_catalog(root or default_root())
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(1)


@main.command()
@root_option
def check(root: Path | None) -> None:
    """Validate every rule, question and module; print all problems as path:line: message."""
    catalog = _load(root)
    click.echo(catalog.summary())


@main.command()
@root_option
@click.option("--json", "as_json", is_flag=True, required=True, help="Print the catalogue as one JSON object.")
def catalog(root: Path | None, as_json: bool) -> None:
    """Print the validated catalogue (rules, questions, modules) as JSON."""
    data = _load(root).to_json()
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))
