"""A module page: rule cards, scenarios as a chat, practice, and the graded quiz."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path

import ipywidgets as w

from ...content.catalog import Catalog
from ...content.schema import Question
from ..identity import Identity
from ..quiz_session import GradedQuiz, Practice
from . import markup
from .controls import button, choice_input, close_tree, hbox, html, language_switch, shown_choices, toggle_buttons, vbox
from .labels import text
from .quiz_view import QuizSection

SECTIONS = ("rules", "scenarios", "practice", "quiz")


class PracticeSection:
    """Questions with instant feedback that quotes the rule; nothing is recorded."""

    def __init__(self, practice: Practice, refresh: Callable[[], None], counter_key: str, empty_key: str = ""):
        self.practice = practice
        self.refresh = refresh
        self.counter_key = counter_key
        self.empty_key = empty_key
        self.pick: list[str] = []
        self.missing_pick = False

    def choose(self, answer: list[str]) -> None:
        self.pick = answer

    def check(self) -> None:
        self.missing_pick = not self.pick
        if self.pick:
            self.practice.check(self.pick)
        self.refresh()

    def next(self) -> None:
        self.practice.go(self.practice.index + 1)
        self.pick = []
        self.missing_pick = False
        self.refresh()

    def render(self, lang: str) -> list[w.Widget]:
        practice = self.practice
        if not practice.question_ids:
            return [html(f"<p>{escape(text(self.empty_key, lang))}</p>")]
        question = practice.question
        heading = text(self.counter_key, lang, n=practice.index + 1, total=len(practice.question_ids))
        widgets: list[w.Widget] = [
            html(f'<p class="wt-note">{escape(text("practice_note", lang))}</p>'),
            html(markup.prompt(question, lang, heading)),
            choice_input(question, lang, self.pick, self.choose, practice.order()),
        ]
        buttons = [button(text("check", lang), self.check, "wt-check", primary=True)]
        if len(practice.question_ids) > 1:
            buttons.append(button(text("next", lang), self.next, "wt-next"))
        widgets.append(hbox(buttons))
        if self.missing_pick:
            widgets.append(html(f'<p class="wt-warning" role="status">{escape(text("pick_first", lang))}</p>'))
        elif practice.last is not None and practice.last.question_id == question.id:
            widgets.append(html(feedback_markup(practice, question, lang)))
        return widgets


def feedback_markup(practice: Practice, question: Question, lang: str) -> str:
    feedback = practice.last
    assert feedback is not None
    verdict = text("correct" if feedback.correct else "wrong", lang)
    parts = [
        f'<div class="wt-feedback {"wt-right" if feedback.correct else "wt-wrong"}" role="status" aria-live="polite">',
        f"<p><strong>{escape(verdict)}</strong></p>",
    ]
    parts += [f'<p class="wt-choice-feedback">{escape(t.get(lang))}</p>' for t in feedback.choice_feedback]
    if not feedback.correct:
        if question.type == "true_false":
            right = ", ".join(sorted(text(c, lang) for c in feedback.correct_choices))
        else:  # the letters the learner saw, not the authored ids
            shown = shown_choices(question, practice.order())
            right = ", ".join(letter for letter, c in shown if c.id in feedback.correct_choices)
        parts.append(f'<p class="wt-right-answer">{escape(text("right_answer", lang))}: {escape(right)}</p>')
    parts.append(f'<p class="wt-explanation">{escape(feedback.explanation.get(lang))}</p>')
    parts += [markup.rule_quote(rule, lang) for rule in feedback.rules]
    parts.append("</div>")
    return "".join(parts)


class ModulePage:
    def __init__(self, catalog: Catalog, module_id: str, identity: Identity, course_dir: Path, lang: str, css: str):
        if module_id not in catalog.modules:
            raise KeyError(f"unknown module {module_id!r}; known: {', '.join(sorted(catalog.modules))}")
        self.catalog = catalog
        self.module = catalog.modules[module_id]
        self.lang = lang
        self.section = "rules"
        scenarios = Practice(catalog, module_id, identity.employee_id)
        scenarios.question_ids = [q for q in scenarios.question_ids if catalog.questions[q].type == "scenario"]
        self.sections = {
            "scenarios": PracticeSection(scenarios, self.draw_body, "scenario_of", "no_scenarios"),
            "practice": PracticeSection(
                Practice(catalog, module_id, identity.employee_id), self.draw_body, "question_of", "no_practice"
            ),
            "quiz": QuizSection(
                self.module, lambda: GradedQuiz(catalog, module_id, identity, course_dir), self.draw_body
            ),
        }
        self.header = html("")
        self.switch = language_switch(lang, self.set_language)
        self.nav = toggle_buttons([], None, "", "wt-nav")
        self.nav.observe(self._navigate, names="value")
        self.body = vbox(css="wt-body")
        self.widget = vbox([*([html(css)] if css else []), self.switch, self.header, self.nav, self.body], "wt-page")
        self.draw()

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.draw()

    def _navigate(self, change: dict) -> None:
        if change["new"] is not None and change["new"] != self.section:
            self.section = change["new"]
            self.draw_body()

    def draw(self) -> None:
        lang = self.lang
        self.switch.description = text("language", lang)
        back = "portal.ipynb" + ("?lang=en" if lang == "en" else "")
        self.header.value = (
            f'<nav><a class="wt-back" href="{back}">{escape(text("back_to_portal", lang))}</a></nav>'
            f'<h1 class="wt-title">{escape(self.module.title.get(lang))}</h1>'
            f'<p class="wt-intro">{escape(self.module.intro.get(lang))}</p>'
        )
        self.nav.unobserve(self._navigate, names="value")
        self.nav.options = [(text(key, lang), key) for key in SECTIONS]
        self.nav.value = self.section
        self.nav.description = text("section", lang)
        self.nav.observe(self._navigate, names="value")
        self.draw_body()

    def draw_body(self) -> None:
        if self.section == "rules":
            cards = "".join(markup.rule_card(r, self.lang) for r in self.catalog.rules_of_area(self.module.id))
            children = [html(f'<div class="wt-cards">{cards}</div>')]
        else:
            children = self.sections[self.section].render(self.lang)
        old = self.body.children
        self.body.children = children
        close_tree(old)
