"""Trainer tools (issue 10): `new`, `preview`, `bank`, `diff`, `analytics`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import main
from .options import (
    course_dir_option,
    db_option,
    load_or_exit,
    record_book_or_exit,
    records_options,
    resolve_root,
    root_option,
)


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
    from ..authoring.skeletons import AuthoringError, add_rule

    try:
        _added(add_rule(resolve_root(root), area))
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
    from ..authoring.skeletons import AuthoringError, add_question

    try:
        _added(add_question(resolve_root(root), rule_id, kind))
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
    from ..content.catalog import load_catalog
    from ..content.problems import ContentError
    from ..learning.preview import make_app, target

    content = resolve_root(root).resolve()
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
    from ..authoring import gift, moodle_xml, question_sheet
    from ..authoring.interchange import InterchangeError

    questions = list(load_or_exit(root).questions.values())
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
    "--format",
    "fmt",
    type=click.Choice(sorted(BANK_FORMATS)),
    default=None,
    help="File format (default: from the extension .xml, .gift/.txt, .xlsx).",
)
def bank_import(file: Path, into: Path, replace: bool, fmt: str | None) -> None:
    """Read FILE (Moodle XML, GIFT or xlsx) into YAML question files.

    Every question is checked first; on any problem (named by question, or sheet and row)
    nothing is written. Run `wechat-training check --root INTO` afterwards."""
    from ..authoring import gift, moodle_xml, question_sheet
    from ..authoring.interchange import InterchangeError, write_questions

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
@click.option(
    "--with-gradebook/--without-gradebook",
    default=None,
    help="Count passes that would expire (default: when --course-dir or --db is given).",
)
def diff(old_ref: str, new_ref: str | None, root, course_dir, db, with_gradebook) -> None:
    """What publishing a content change costs: OLD_REF against NEW_REF (default: the content as it is now).

    Each is a git revision of the repository holding the content (HEAD, main, a tag) or a folder.
    Lists rules whose version was bumped and the modules citing them, how many current passes
    would expire (from the gradebook), and warns of rules whose text changed without a bump."""
    import tempfile

    from ..authoring.diff import DiffError, compare, expiring_passes, load_both
    from ..content.problems import ContentError

    content = resolve_root(root)
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
        book = record_book_or_exit(course_dir, db, root, None, None)
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
@click.option(
    "--by",
    "by",
    type=click.Choice(["rule", "department"]),
    default="rule",
    show_default=True,
    help="rule: miss rate per rule over everyone; department: per department and rule.",
)
@click.option(
    "--min-group",
    type=int,
    default=None,
    help="Hide groups smaller than this (default: $WECHAT_TRAINING_MIN_GROUP, else 5, as the dashboard).",
)
@records_options
def analytics(by: str, min_group: int | None, root, course_dir, db, campaign, as_of) -> None:
    """Which rules learners miss most, from the graded answers (worst first)."""

    from ..records import analytics as A
    from ..records import rollup as R
    from ..records.dashboard import MIN_GROUP_VARIABLE

    size = min_group or int(os.environ.get(MIN_GROUP_VARIABLE) or A.DEFAULT_MIN_GROUP)
    book = record_book_or_exit(course_dir, db, root, campaign, as_of)
    employees = book.records[[R.EMPLOYEE_ID, R.DEPARTMENT]].drop_duplicates(R.EMPLOYEE_ID)
    rates = (A.rule_miss_rates_overall if by == "rule" else A.rule_miss_rates)(book.answers, employees, size)
    if rates.empty:
        click.echo(f"no group of at least {size} people has answered yet")
        return
    click.echo(rates.to_string(index=False))
    click.echo(f"(groups smaller than {size} people hidden)")
