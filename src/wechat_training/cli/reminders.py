"""`remind`: reminders to employees, digests to managers (issue 12)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import main
from .options import (
    course_dir_or_default,
    record_book_or_exit,
    records_options,
)

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
@records_options
def remind(via, dry_run, out, retries, retry_in_doubt, root, course_dir, db, campaign, as_of) -> None:

    from ..assessment import gradebook
    from ..records import delivery, reminders
    from ..records.reminder_log import ReminderLog

    if via is None and not dry_run:
        raise click.UsageError("choose a channel with --via email|wecom|file (or look first with --dry-run)")
    if via == "file" and out is None:
        raise click.UsageError("--via file needs --out DIR or --out FILE.jsonl")
    # Settings first: a missing SMTP host is reported before any database is opened.
    channel = None if dry_run else _reminder_channel(via, out, os.environ)
    book = record_book_or_exit(course_dir, db, root, campaign, as_of)
    url = gradebook.resolve_url(course_dir_or_default(course_dir, root), db)
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
    from ..records.channels import files, smtp, wecom

    try:
        if via == "email":
            return smtp.SmtpChannel(smtp.SmtpSettings.from_environment(environ))
        if via == "wecom":
            return wecom.WeComChannel(wecom.webhook_from_environment(environ))
    except (smtp.SmtpSettingsError, wecom.WeComSettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    return files.FileChannel(out, sender=environ.get("WECHAT_TRAINING_SMTP_FROM") or files.DEFAULT_SENDER)
