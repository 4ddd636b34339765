"""The trainer's preview: one question, rule or module exactly as a learner sees it.

It is the learner's practice view (chat bubbles, choices, feedback quoting the
rule), so nothing is ever written to the submission store, and it includes
drafts. A background thread compares the content files' stamp
(`widgets.page.content_stamp`: names, sizes, mtimes) every `poll` seconds and
redraws from the reloaded catalogue when a YAML file is saved; a save that
breaks the content shows the problems (path:line) until it is fixed.

In JupyterLab: `from wechat_training.learning.preview import preview; preview("Q-GRP-004")`.
From the shell: `wechat-training preview Q-GRP-004` serves the same cell with Voila.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ..content.catalog import Catalog, load_catalog
from ..content.problems import ContentError
from ..content.schema import AREA_PREFIX, Rule
from .quiz_session import Practice
from .widgets import markup
from .widgets.controls import close_tree, html, language_switch, vbox
from .widgets.module_view import PracticeSection
from .widgets.page import content_stamp, stylesheet

POLL_SECONDS = 0.5
NOTEBOOK = "preview.ipynb"


@dataclass(frozen=True)
class Target:
    """What a preview shows: the rules on top, then the questions to practise."""

    title: str
    area: str
    rules: tuple[Rule, ...]
    question_ids: tuple[str, ...]


def target(catalog: Catalog, item_id: str) -> Target:
    """The rules and questions of a question id, a rule id or a module id; KeyError if unknown."""
    if item_id in catalog.questions:
        q = catalog.questions[item_id]
        area = _area(q.area_prefix)
        return Target(item_id, area, tuple(catalog.rules[r] for r in q.rules if r in catalog.rules), (item_id,))
    if item_id in catalog.rules:
        rule = catalog.rules[item_id]
        questions = tuple(q.id for q in catalog.questions.values() if item_id in q.rules)
        return Target(f"{item_id} {rule.title.zh}", rule.area, (rule,), questions)
    if item_id in catalog.modules:
        module = catalog.modules[item_id]
        questions = tuple(q.id for q in catalog.questions_of_area(item_id))
        return Target(f"{item_id} {module.title.zh}", item_id, tuple(catalog.rules_of_area(item_id)), questions)
    raise KeyError(f"{item_id!r} is no question, rule or module id of {catalog.root}")


def _area(prefix: str) -> str:
    return next(a for a, p in AREA_PREFIX.items() if p == prefix)


class PreviewPage:
    def __init__(self, root: Path, item_id: str, lang: str = "zh", poll: float = POLL_SECONDS):
        self.root, self.item_id, self.lang, self.poll = root, item_id, lang, poll
        self.css = stylesheet()
        self.switch = language_switch(lang, self.set_language)
        self.body = vbox(css="wt-body")
        self.widget = vbox([html(self.css), self.switch, self.body], "wt-page")
        self.widget.add_class("wt-preview")
        self.section = None
        self.loads = 0
        # The watcher thread redraws while the kernel's thread may be handling a click.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.reload()
        self._watcher = threading.Thread(target=self._watch, name="wechat-training-preview", daemon=True)
        self._watcher.start()

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.draw()

    def reload(self) -> None:
        with self._lock:
            self._reload()

    def _reload(self) -> None:
        self.stamp = content_stamp(self.root)
        self.problem = None
        try:
            catalog = load_catalog(self.root, include_drafts=True)
            self.target = target(catalog, self.item_id)
        except (ContentError, KeyError, OSError) as exc:
            self.problem = exc
        else:
            self.catalog = catalog
            practice = Practice(catalog, self.target.area)
            practice.question_ids = list(self.target.question_ids)
            self.section = PracticeSection(practice, self.draw, "question_of", "no_questions_yet")
        self.loads += 1
        self.draw()

    def draw(self) -> None:
        with self._lock:
            self._draw()

    def _draw(self) -> None:
        if self.problem is not None:
            children = [html(markup.error_box(_problem_text(self.problem), self.lang))]
        else:
            drafts = set(self.catalog.drafts)
            badge = " <span class='wt-badge'>draft</span>" if self.item_id in drafts else ""
            cards = "".join(markup.rule_card(r, self.lang) for r in self.target.rules)
            head = (
                f'<h1 class="wt-title">Preview: {escape(self.target.title)}{badge}</h1>'
                f'<p class="wt-note">Practice mode: nothing is recorded. Reloads when the YAML is saved.</p>'
                f'<div class="wt-cards">{cards}</div>'
            )
            children = [html(head), *self.section.render(self.lang)]
        old = self.body.children
        self.body.children = children
        close_tree(old)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                changed = content_stamp(self.root) != self.stamp
            except OSError:  # a file being replaced by an editor's atomic save
                continue
            if changed:
                self.reload()

    def close(self) -> None:
        self._stop.set()


def _problem_text(exc: Exception) -> str:
    problems = getattr(exc, "problems", None)
    if problems:
        return "\n".join(str(p) for p in problems)
    return str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)


def preview(item_id: str, root: str | Path | None = None, lang: str = "zh", poll: float = POLL_SECONDS) -> None:
    """Display the item (question, rule or module id) in practice mode; redraws on save.

    Returns None so a notebook cell shows the page, not a repr."""
    from IPython.display import display

    from ..content.location import content_root

    page = PreviewPage(content_root(Path(root) if root else None).resolve(), item_id, lang, poll)
    _pages.append(page)  # the watcher and the buttons' callbacks live as long as the kernel
    display(page.widget)


_pages: list[PreviewPage] = []


def notebook_source(item_id: str, root: Path) -> str:
    return f"from wechat_training.learning.preview import preview\npreview({item_id!r}, root={str(root)!r})"


def make_app(item_id: str, root: Path, port: int):
    """A Voila application serving the preview cell on 127.0.0.1:`port` (not started)."""
    from tornado.web import RedirectHandler
    from traitlets.config import Config
    from voila.app import Voila

    from .notebooks import notebook_text
    from .server import HOST

    directory = Path(tempfile.mkdtemp(prefix="wechat-training-preview-"))
    (directory / NOTEBOOK).write_text(notebook_text("preview", notebook_source(item_id, root)), encoding="utf-8")
    c = Config()
    c.Voila.ip = HOST
    c.Voila.port = port
    c.Voila.open_browser = False
    c.Voila.port_retries = 0
    c.VoilaConfiguration.show_tracebacks = True  # the trainer, not a learner, reads this page

    class PreviewVoila(Voila):
        def init_handlers(self):
            handlers = super().init_handlers()
            page = self.server_url.rstrip("/") + "/voila/render/" + NOTEBOOK
            return [(self.server_url, RedirectHandler, {"url": page})] + [
                h for h in handlers if h[0] != self.server_url
            ]

    app = PreviewVoila(config=c)
    app.initialize([str(directory)])
    return app
