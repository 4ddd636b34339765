"""HTML fragments for the learner pages: rule cards, chat bubbles, the portal table.

Pure functions returning escaped HTML strings (no ipywidgets), so they are
tested directly. Every content text is escaped: authored YAML never becomes markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from ...content.catalog import Catalog
from ...content.schema import Question, Rule
from ..status import FAILED, NOT_STARTED, PASSED, ModuleStatus
from .labels import text

ROLE_CLASS = {
    "me": "wt-me",
    "colleague": "wt-colleague",
    "manager": "wt-manager",
    "customer": "wt-customer",
    "stranger": "wt-stranger",
    "system": "wt-system",
}
ROLE_NAMES = {
    "colleague": ("同事", "colleague"),
    "manager": ("上级", "manager"),
    "customer": ("客户", "customer"),
    "stranger": ("陌生人", "stranger"),
    "system": ("系统", "system"),
    "me": ("我", "me"),
}


def rule_card(rule: Rule, lang: str) -> str:
    severity = rule.severity.value
    badge = f'<span class="wt-badge wt-{severity}">{escape(text(severity, lang))}</span>'
    parts = [
        f'<article class="wt-card wt-rule-{severity}" data-rule="{escape(rule.id)}" aria-label="{escape(rule.id)}">',
        f'<h3><span class="wt-rule-id">{escape(rule.id)}</span> {escape(rule.title.get(lang))} {badge}</h3>',
        f"<p>{escape(rule.text.get(lang))}</p>",
        f'<p class="wt-why"><strong>{escape(text("why", lang))}:</strong> {escape(rule.why.get(lang))}</p>',
    ]
    if rule.consequence is not None:
        parts.append(
            f'<p class="wt-consequence"><strong>{escape(text("consequence", lang))}:</strong> '
            f"{escape(rule.consequence.get(lang))}</p>"
        )
    parts.append(_sources(rule, lang))
    parts.append("</article>")
    return "".join(parts)


def _sources(rule: Rule, lang: str) -> str:
    """Where the rule comes from: the policy document and section, or the company's own clause.

    A company addition is named as such so nobody mistakes it for what a policy
    says; the document title tells apart the several documents of one policy
    file (issue 9 §4). Seed file names mean nothing to a learner and are left out.
    """
    rows = []
    for source in rule.source:
        if source.kind == "company":
            assert source.clause is not None  # the schema requires it for kind: company
            rows.append(
                f'<li class="wt-company"><strong>{escape(text("company_addition", lang))}:</strong> '
                f"{escape(source.clause.get(lang))}</li>"
            )
            continue
        cited = " ".join(escape(p) for p in (source.document and f"《{source.document}》", source.section) if p)
        notes = "<br>".join(
            f'<span class="wt-conflict"><strong>{escape(text("policies_differ", lang))}:</strong> '
            f"{escape(conflict.reason.get(lang))}</span>"
            for conflict in source.conflicts
        )
        rows.append(f'<li class="wt-citation">{cited}{"<br>" + notes if notes else ""}</li>')
    return f'<div class="wt-sources"><strong>{escape(text("source", lang))}:</strong><ul>{"".join(rows)}</ul></div>'


def rule_quote(rule: Rule, lang: str) -> str:
    """The form cited in feedback: id, title, what the rule says and what breaking it costs."""
    consequence = ""
    if rule.consequence is not None:
        consequence = (
            f'<br><span class="wt-consequence"><strong>{escape(text("consequence", lang))}:</strong> '
            f"{escape(rule.consequence.get(lang))}</span>"
        )
    return (
        f'<blockquote class="wt-quote" data-rule="{escape(rule.id)}"><strong>{escape(rule.id)}</strong> '
        f"{escape(rule.title.get(lang))}: {escape(rule.text.get(lang))}{consequence}</blockquote>"
    )


def chat(question: Question, lang: str) -> str:
    """A scenario's exchange as WeChat-like bubbles: others on the left, the learner on the right."""
    rows = ['<div class="wt-chat" role="log">']
    for message in question.chat or ():
        role = message.role.value
        zh, en = ROLE_NAMES[role]
        role_name = en if lang == "en" else zh
        rows.append(
            f'<div class="wt-msg {ROLE_CLASS[role]}">'
            f'<div class="wt-sender">{escape(message.sender.get(lang))} '
            f'<span class="wt-role">({escape(role_name)})</span> <time>{escape(message.time)}</time></div>'
            f'<div class="wt-bubble">{escape(message.text.get(lang))}</div></div>'
        )
    rows.append("</div>")
    return "".join(rows)


def prompt(question: Question, lang: str, heading: str = "") -> str:
    head = f'<div class="wt-qhead">{escape(heading)} <span class="wt-qid">{escape(question.id)}</span></div>'
    body = chat(question, lang) if question.type == "scenario" else ""
    return f'{head}{body}<p class="wt-prompt">{escape(question.prompt.get(lang))}</p>'


def status_label(status: ModuleStatus, lang: str, today: date) -> str:
    if status.overdue(today):
        return text("overdue", lang)
    return text(status.status, lang)


def portal_table(
    catalog: Catalog, rows: Sequence[ModuleStatus], lang: str, today: date, certificate_link: str = ""
) -> str:
    """The modules due, with status and a way in; `certificate_link` ('/certificate/{module}.pdf',
    set by `serve` when certificates are configured) adds a download beside each pass."""
    if not rows:
        return f'<p class="wt-empty">{escape(text("nothing_due", lang))}</p>'
    head = "".join(
        f'<th scope="col">{escape(text(k, lang))}</th>'
        for k in ("module", "status", "score", "passed_on", "due", "open")
    )
    body = []
    for row in rows:
        module = catalog.modules[row.module_id]
        title = escape(module.title.get(lang))
        if not row.mandatory:
            title += f' <span class="wt-optional">({escape(text("optional", lang))})</span>'
        score = ""
        if row.best_score is not None:
            score = f"{row.best_score} / {row.max_score}"
        status_class = {PASSED: "wt-passed", FAILED: "wt-failed", NOT_STARTED: "wt-not-started"}[row.status]
        if row.overdue(today):
            status_class = "wt-overdue"
        attempts = (
            f' <span class="wt-attempts">{row.attempts} {escape(text("attempts", lang))}</span>' if row.attempts else ""
        )
        link = f"{row.module_id}.ipynb" + ("?lang=en" if lang == "en" else "")
        body.append(
            f'<tr data-module="{escape(row.module_id)}">'
            f"<td>{title}</td>"
            f'<td class="{status_class}">{escape(status_label(row, lang, today))}{attempts}</td>'
            f"<td>{escape(score)}</td>"
            f"<td>{row.passed_on.isoformat() if row.passed_on else ''}</td>"
            f"<td>{row.due.isoformat() if row.due else escape(text('no_due', lang))}</td>"
            f'<td><a class="wt-open" href="{escape(link)}">{escape(text("open", lang))}: {escape(module.title.get(lang))}</a>'
            + _certificate_link(certificate_link, row)
            + "</td></tr>"
        )
    return f'<table class="wt-portal"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _certificate_link(pattern: str, row: ModuleStatus) -> str:
    if not pattern or row.status != PASSED:
        return ""
    href = pattern.format(module=row.module_id)
    label = f"{text('certificate', 'zh')} / {text('certificate', 'en')}"
    return f' <a class="wt-certificate" href="{escape(href)}" download>{escape(label)}</a>'


def error_box(message: str, lang: str) -> str:
    return (
        f'<div class="wt-error" role="alert"><h2>{escape(text("error_title", lang))}</h2>'
        f"<p>{escape(text('error_help', lang))}</p><pre>{escape(message)}</pre></div>"
    )
