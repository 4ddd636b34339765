"""The HR dashboard (Voila): completion by department, overdue list, trend, rules missed, exports.

A view only: figures come from the record book (`book`) and `analytics`
(aggregates that hide groups smaller than the minimum). Charts are small
inline SVGs, so the page needs no plotting library and a browser test can read
every bar's value from its `data-*` attributes.

Settings come from the server's environment, like the learner portal:
WECHAT_TRAINING_ROOT, WECHAT_TRAINING_COURSE_DIR, WECHAT_TRAINING_DB,
WECHAT_TRAINING_CAMPAIGN, WECHAT_TRAINING_MIN_GROUP (default 5); the page's
query string may carry `as_of=YYYY-MM-DD`. Without a gradebook to read, the page
says which variables are missing and creates nothing (opening a SQLite
gradebook that is not there would create an empty one). Serve it to HR only:
the overdue list names people. Chinese first, English beside it.
"""

from __future__ import annotations

import base64
import os
import tempfile
from datetime import date
from html import escape
from pathlib import Path
from urllib.parse import parse_qs

from . import analytics as A
from . import rollup as R

MIN_GROUP_VARIABLE = "WECHAT_TRAINING_MIN_GROUP"
#: What the page reads from the server's environment, and what each is for (shown when missing).
VARIABLES = {
    "WECHAT_TRAINING_ROOT": "the content root (rules/, quizzes/, campaign.yaml)",
    "WECHAT_TRAINING_COURSE_DIR": "the course directory `wechat-training grade` writes (its gradebook.db)",
    "WECHAT_TRAINING_DB": "or the gradebook's SQLAlchemy URL (PostgreSQL)",
}
TOP_RULES = 5
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xapi": "application/json",
}
SUFFIX = {"csv": "csv", "xlsx": "xlsx", "xapi": "json"}

CSS = """
<style>
.wt-dash { font-family: system-ui, "Noto Sans CJK SC", sans-serif; max-width: 1100px; }
.wt-dash h2 { margin: 1.2em 0 .4em; font-size: 1.15em; }
.wt-dash table { border-collapse: collapse; font-size: .9em; }
.wt-dash th, .wt-dash td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }
.wt-dash td.num { text-align: right; font-variant-numeric: tabular-nums; }
.wt-dash .note { color: #666; font-size: .85em; }
.wt-dash .en { color: #555; font-weight: normal; font-size: .9em; margin-left: .4em; }
</style>
"""


def _as_of_from_query() -> date | None:
    values = parse_qs(os.environ.get("QUERY_STRING", "")).get("as_of", [])
    try:
        return date.fromisoformat(values[0]) if values else None
    except ValueError:
        return None


def open_dashboard() -> None:
    """Build the dashboard from the server's environment and display it (one notebook cell)."""
    from IPython.display import HTML, display

    from ..content.location import ContentRootError, page_settings
    from ..content.problems import ContentError
    from .book import open_record_book

    try:
        root, course_dir = page_settings()
        missing = missing_gradebook(course_dir)
        if missing:
            display(HTML(CSS + missing))
            return
        min_group = int(os.environ.get(MIN_GROUP_VARIABLE) or A.DEFAULT_MIN_GROUP)
        # The campaign comes from $WECHAT_TRAINING_CAMPAIGN or campaign.yaml (campaign.campaign_for).
        book = open_record_book(course_dir, root, as_of=_as_of_from_query())
    except (ContentError, ContentRootError, ValueError, OSError) as exc:
        display(
            HTML(
                "<div class='wt-dash wt-error'><h2>无法读取培训记录<span class='en'>Cannot open the records</span></h2>"
                f"<pre>{escape(str(exc))}</pre></div>"
            )
        )
        return
    # The buttons' callbacks keep the view alive; nothing is returned, so the cell shows no repr.
    display(DashboardView(book, min_group).widget)


def missing_gradebook(course_dir: Path, environ=os.environ) -> str:
    """'' when there is a gradebook to read; else the page's message (HTML) naming the
    variables that are not set and the file that was looked for."""
    from ..assessment.gradebook.database import DB_ENV, DB_FILE

    if environ.get(DB_ENV) or (Path(course_dir) / DB_FILE).is_file():
        return ""
    unset = "".join(
        f"<li><code>{name}</code>: {escape(purpose)}</li>"
        for name, purpose in VARIABLES.items()
        if not environ.get(name)
    )
    return (
        "<div class='wt-dash wt-error' id='missing-settings'>"
        "<h2>没有可读取的成绩库<span class='en'>No gradebook to read</span></h2>"
        f"<p>找不到 No gradebook at <code>{escape(str(Path(course_dir) / DB_FILE))}</code>; nothing was created.</p>"
        f"<p>请在启动 Voilà 的环境中设置 Set these when starting Voilà:</p><ul>{unset}</ul>"
        "<p class='note'>e.g. <code>WECHAT_TRAINING_ROOT=/srv/training WECHAT_TRAINING_COURSE_DIR=/srv/training/grading "
        "voila notebooks/hr_dashboard.ipynb</code></p></div>"
    )


class DashboardView:
    def __init__(self, book, min_group: int = A.DEFAULT_MIN_GROUP):
        import ipywidgets as w

        self.book = book
        self.min_group = min_group
        records = book.records
        self.completion = A.completion_by_department(records)
        self.overdue = A.overdue_list(records)
        self.trend = A.completion_trend(records, as_of=book.as_of)
        employees = records[[R.EMPLOYEE_ID, R.DEPARTMENT]].drop_duplicates(R.EMPLOYEE_ID)
        self.misses = A.rule_miss_rates(book.answers, employees, min_group)
        hidden = A.hidden_rule_groups(book.answers, employees, min_group)
        self.names = dict(zip(records[R.EMPLOYEE_ID], records[R.NAME], strict=True))
        self.titles = {m: t["zh-CN"] for m, t in book.module_titles().items()}

        self.download = w.HTML(value="", layout=w.Layout(margin="0 0 0 12px"))
        buttons = []
        for fmt in ("csv", "xlsx", "xapi"):
            button = w.Button(description=f"导出 Export {fmt.upper()}", tooltip=f"records as {fmt}")
            button.add_class(f"wt-export-{fmt}")
            button.on_click(lambda _b, fmt=fmt: self.export(fmt))
            buttons.append(button)
        note = (
            f"答题情况只按不少于 {min_group} 人的部门显示（{hidden} 个部门人数不足，未显示）；培训状态按人显示。"
            f" Answers are shown only for departments of at least {min_group} people ({hidden} hidden);"
            " training status is HR's record and is shown by name."
        )
        header = w.HTML(
            CSS
            + (
                "<div class='wt-dash'><h1>企业微信合规培训：人力资源看板"
                "<span class='en'>WeChat / WeCom compliance training: HR dashboard</span></h1>"
                f"<p>截至 As of <b id='as-of'>{book.as_of}</b>：{len(records)} 条记录 records，"
                f"{records[R.EMPLOYEE_ID].nunique()} 名员工 employees。</p>"
                f"<p class='note' id='privacy-note'>{escape(note)}</p></div>"
            )
        )
        body = w.HTML(
            "<div class='wt-dash'>"
            + self._completion_html()
            + self._trend_html()
            + self._overdue_html()
            + self._misses_html()
            + "<h2>导出<span class='en'>Export</span></h2></div>"
        )
        self.widget = w.VBox([header, body, w.HBox([*buttons, self.download])])
        self.widget.add_class("wt-dashboard")

    # ------------------------------------------------------------------ sections

    def _completion_html(self) -> str:
        frame = self.completion
        bars = bar_chart_svg(list(frame[R.DEPARTMENT]), list(frame[R.COMPLETION_RATE]), "completion-chart")
        rows = "".join(
            f"<tr data-department='{escape(str(r.department), quote=True)}'><td>{escape(str(r.department))}</td>"
            f"<td class='num'>{r.people}</td><td class='num'>{r.assigned}</td><td class='num'>{r.passed}</td>"
            f"<td class='num'>{r.overdue}</td><td class='num'>{r.expired}</td><td class='num'>{r.exempt}</td>"
            f"<td class='num'>{r.completion_rate:.1%}</td></tr>"
            for r in frame.itertuples(index=False)
        )
        heads = _heads(
            ("部门", "Department"),
            ("人数", "People"),
            ("应完成", "Assigned"),
            ("已通过", "Passed"),
            ("已逾期", "Overdue"),
            ("已过期", "Expired"),
            ("已豁免", "Exempt"),
            ("完成率", "Completion"),
        )
        return (
            "<h2>各部门完成情况<span class='en'>Completion by department</span></h2>"
            + bars
            + f"<table id='completion'><tr>{heads}</tr>{rows}</table>"
        )

    def _trend_html(self) -> str:
        if self.trend.empty:
            return "<h2>趋势<span class='en'>Trend</span></h2><p class='note'>还没有人通过。No passes yet.</p>"
        return (
            "<h2>趋势：已通过的必修课程占比<span class='en'>Trend: share of assigned modules passed</span></h2>"
            + line_chart_svg([str(d) for d in self.trend[A.DAY]], list(self.trend[A.PASSED_SHARE]), "trend-chart")
        )

    def _overdue_html(self) -> str:
        frame = self.overdue
        if frame.empty:
            return (
                "<h2>已逾期<span class='en'>Overdue</span></h2>"
                "<p class='note' id='overdue-none'>没有人逾期。Nobody is overdue.</p>"
            )
        rows = "".join(
            f"<tr data-employee='{escape(r.employee_id, quote=True)}' data-module='{r.module_id}'>"
            f"<td>{escape(r.employee_id)}</td><td>{escape(str(r.name))}</td><td>{escape(str(r.department))}</td>"
            f"<td>{escape(str(self.names.get(r.manager) or r.manager))}</td>"
            f"<td>{escape(self.titles.get(r.module_id, r.module_id))}</td><td>{r.due_date}</td>"
            f"<td class='num'>{r.attempts}</td></tr>"
            for r in frame.itertuples(index=False)
        )
        heads = _heads(
            ("工号", "Employee"),
            ("姓名", "Name"),
            ("部门", "Department"),
            ("上级", "Manager"),
            ("课程", "Module"),
            ("截止日期", "Due"),
            ("提交次数", "Attempts"),
        )
        return f"<h2>已逾期（{len(frame)}）<span class='en'>Overdue</span></h2><table id='overdue'><tr>{heads}</tr>{rows}</table>"

    def _misses_html(self) -> str:
        frame = self.misses.groupby(R.DEPARTMENT, sort=True).head(TOP_RULES)
        if frame.empty:
            return (
                "<h2>错得最多的规则<span class='en'>Rules missed most</span></h2>"
                "<p class='note' id='misses-none'>暂无：没有足够大的部门答错过。"
                "None yet: no group large enough has missed a rule.</p>"
            )
        titles = {rid: rule.title.zh + " / " + rule.title.en for rid, rule in self.book.catalog.rules.items()}
        rows = "".join(
            f"<tr data-department='{escape(str(r.department), quote=True)}' data-rule='{r.rule_id}' "
            f"data-miss-rate='{r.miss_rate}'><td>{escape(str(r.department))}</td><td>{r.rule_id}</td>"
            f"<td>{escape(titles.get(r.rule_id, ''))}</td><td class='num'>{r.people}</td>"
            f"<td class='num'>{r.misses}/{r.answers}</td><td class='num'>{r.miss_rate:.0%}</td></tr>"
            for r in frame.itertuples(index=False)
        )
        heads = _heads(
            ("部门", "Department"),
            ("规则", "Rule"),
            ("标题", "Title"),
            ("答题人数", "People"),
            ("答错", "Missed"),
            ("错误率", "Miss rate"),
        )
        return (
            f"<h2>错得最多的规则（每个部门前 {TOP_RULES} 条）<span class='en'>Rules missed most "
            f"(top {TOP_RULES} per department)</span></h2><table id='rule-misses'><tr>{heads}</tr>{rows}</table>"
        )

    # ------------------------------------------------------------------ exports

    def export(self, fmt: str) -> bytes:
        """Write the export to a temporary file and offer it as a download link."""
        from . import exports

        name = f"training-records-{self.book.as_of}.{SUFFIX[fmt]}"
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / name
            exports.write(
                self.book.records,
                fmt,
                out,
                home_page=self.book.campaign.home_page,
                module_titles=self.book.module_titles(),
            )
            data = out.read_bytes()
        encoded = base64.b64encode(data).decode("ascii")
        self.download.value = (
            f"<a class='wt-download wt-download-{fmt}' download='{name}' "
            f"href='data:{MIME[fmt]};base64,{encoded}'>下载 Download {name}</a>"
        )
        return data


def _heads(*pairs: tuple[str, str]) -> str:
    """Table header cells, Chinese first with English beside it."""
    return "".join(f"<th>{zh} <span class='en'>{en}</span></th>" for zh, en in pairs)


def bar_chart_svg(labels: list[str], values: list[float], ident: str, width: int = 640) -> str:
    """Horizontal bars of shares 0..1, one per label."""
    bar, gap, left = 20, 8, 180
    height = max(1, len(labels)) * (bar + gap) + gap
    parts = [f"<svg id='{ident}' width='{width}' height='{height}' role='img' xmlns='http://www.w3.org/2000/svg'>"]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = gap + i * (bar + gap)
        length = max(0.0, min(1.0, float(value))) * (width - left - 60)
        parts.append(
            f"<text x='{left - 6}' y='{y + bar - 5}' text-anchor='end' font-size='12'>{escape(str(label))}</text>"
            f"<rect class='bar' data-label='{escape(str(label), quote=True)}' data-value='{value}' x='{left}' "
            f"y='{y}' width='{length:.1f}' height='{bar}' fill='#2e7d32'/>"
            f"<text x='{left + length + 4:.1f}' y='{y + bar - 5}' font-size='12'>{float(value):.0%}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(labels: list[str], values: list[float], ident: str, width: int = 640, height: int = 180) -> str:
    """A line of shares 0..1 over the labels (days), first and last day written under it."""
    pad = 30
    n = len(values)
    xs = [pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5) for i in range(n)]
    ys = [height - pad - (height - 2 * pad) * max(0.0, min(1.0, float(v))) for v in values]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    dots = "".join(
        f"<circle class='point' data-label='{label}' data-value='{value}' cx='{x:.1f}' cy='{y:.1f}' r='3'/>"
        for label, value, x, y in zip(labels, values, xs, ys, strict=True)
    )
    return (
        f"<svg id='{ident}' width='{width}' height='{height}' role='img' xmlns='http://www.w3.org/2000/svg'>"
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' stroke='#999'/>"
        f"<polyline points='{points}' fill='none' stroke='#1565c0' stroke-width='2'/>{dots}"
        f"<text x='{pad}' y='{height - 8}' font-size='11'>{labels[0]}</text>"
        f"<text x='{width - pad}' y='{height - 8}' font-size='11' text-anchor='end'>{labels[-1]}</text>"
        f"<text x='{width - pad}' y='{ys[-1] - 6:.1f}' font-size='11' text-anchor='end'>{float(values[-1]):.0%}</text>"
        "</svg>"
    )
