"""The graded quiz on screen: layout choice, questions, review, confirmation, result.

All state lives in `quiz_session.GradedQuiz`; this class only draws it and
turns clicks into calls on it.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import ipywidgets as w

from ...content.schema import Module
from ..quiz_session import GradedQuiz
from . import markup
from .controls import button, choice_input, hbox, html, shown_choices, toggle_buttons, vbox
from .labels import text

ONE_BY_ONE = "one_by_one"
ALL_ON_PAGE = "all_on_page"


class QuizSection:
    def __init__(self, module: Module, start: Callable[[], GradedQuiz], refresh: Callable[[], None]):
        self.module = module
        self._start = start
        self.refresh = refresh
        self.quiz: GradedQuiz | None = None
        self.layout = ONE_BY_ONE
        self.confirming = False

    # --- actions (each changes state, then asks the page to redraw) ---
    def begin(self) -> None:
        self.quiz = self._start()
        self.confirming = False
        self.refresh()

    def set_layout(self, layout: str) -> None:
        self.layout = layout

    def record(self, question_id: str, answer: list[str]) -> None:
        # No redraw: the control already shows the pick, and redrawing would move focus.
        assert self.quiz is not None
        self.quiz.answer(question_id, answer)

    def _do(self, action: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            action()
            self.refresh()

        return run

    def ask_confirmation(self) -> None:
        self.confirming = True

    def cancel(self) -> None:
        self.confirming = False

    def submit(self) -> None:
        assert self.quiz is not None
        self.quiz.submit()
        self.confirming = False

    # --- drawing ---
    def render(self, lang: str) -> list[w.Widget]:
        if self.quiz is None:
            return self._intro(lang)
        if self.quiz.submitted:
            return self._result(lang)
        if self.confirming:
            return self._review(lang) + self._confirm(lang)
        if self.quiz.reviewing:
            return self._review(lang) + [
                button(text("submit", lang), self._do(self.ask_confirmation), "wt-submit", primary=True)
            ]
        return self._questions(lang)

    def _intro(self, lang: str) -> list[w.Widget]:
        module = self.module
        total = len(module.fixed) + module.draw.count
        intro = html(
            f'<p class="wt-quiz-intro">{escape(text("quiz_intro", lang, total=total, mark=round(module.pass_mark * 100)))}</p>'
        )
        layout = toggle_buttons(
            [(text("one_by_one", lang), ONE_BY_ONE), (text("all_on_page", lang), ALL_ON_PAGE)],
            self.layout,
            text("layout", lang),
            "wt-layout",
        )
        layout.observe(lambda change: self.set_layout(change["new"]), names="value")
        return [intro, layout, button(text("start_quiz", lang), self.begin, "wt-start", primary=True)]

    def _question_block(self, index: int, lang: str) -> list[w.Widget]:
        quiz = self.quiz
        assert quiz is not None
        question = quiz.catalog.questions[quiz.question_ids[index]]
        heading = text("question_of", lang, n=index + 1, total=len(quiz.question_ids))
        control = choice_input(
            question,
            lang,
            quiz.answer_of(question.id),
            lambda answer, qid=question.id: self.record(qid, answer),
            quiz.order_of(question.id),
        )
        return [vbox([html(markup.prompt(question, lang, heading)), control], "wt-question")]

    def _questions(self, lang: str) -> list[w.Widget]:
        quiz = self.quiz
        assert quiz is not None
        review = button(text("review", lang), self._do(quiz.start_review), "wt-review")
        if self.layout == ALL_ON_PAGE:
            blocks = [b for i in range(len(quiz.question_ids)) for b in self._question_block(i, lang)]
            return blocks + [review]
        nav = []
        if quiz.index > 0:
            nav.append(button(text("previous", lang), self._do(quiz.previous), "wt-previous"))
        if quiz.index + 1 < len(quiz.question_ids):
            nav.append(button(text("next", lang), self._do(quiz.next), "wt-next", primary=True))
        nav.append(review)
        return self._question_block(quiz.index, lang) + [hbox(nav)]

    def _review(self, lang: str) -> list[w.Widget]:
        quiz = self.quiz
        assert quiz is not None
        rows: list[w.Widget] = [html(f'<h2 class="wt-review-title">{escape(text("review_title", lang))}</h2>')]
        for item in quiz.review():
            question = quiz.catalog.questions[item.question_id]
            shown = (
                _answer_text(question, item.answer, lang, quiz.order_of(question.id))
                if item.answered
                else text("unanswered", lang)
            )
            css = "wt-review-item" + ("" if item.answered else " wt-unanswered")
            line = html(
                f'<div class="{css}" data-question="{escape(item.question_id)}"><strong>{item.number}.</strong> '
                f"{escape(markup.one_line(question, lang))} "
                f"<em>{escape(text('your_answer', lang))}: {escape(shown)}</em></div>"
            )
            edit = button(
                text("edit", lang, n=item.number), self._do(lambda i=item.number - 1: self._edit(i)), "wt-edit"
            )
            rows.append(hbox([line, edit], "wt-review-row"))
        missing = quiz.unanswered()
        if missing:
            rows.append(
                html(
                    f'<p class="wt-warning" role="status">'
                    f"{escape(text('unanswered_warning', lang, count=len(missing), numbers=', '.join(map(str, missing))))}</p>"
                )
            )
        return rows

    def _edit(self, index: int) -> None:
        assert self.quiz is not None
        self.confirming = False
        self.quiz.go(index)

    def _confirm(self, lang: str) -> list[w.Widget]:
        box = vbox(
            [
                html(f'<p class="wt-confirm-text" role="alertdialog">{escape(text("confirm_text", lang))}</p>'),
                hbox(
                    [
                        button(text("confirm", lang), self._do(self.submit), "wt-confirm", primary=True),
                        button(text("cancel", lang), self._do(self.cancel), "wt-cancel"),
                    ]
                ),
            ],
            "wt-confirm-box",
        )
        return [box]

    def _result(self, lang: str) -> list[w.Widget]:
        quiz = self.quiz
        assert quiz is not None and quiz.outcome is not None
        result = quiz.outcome.result
        parts = [
            f'<section class="wt-result {"wt-pass" if result.passed else "wt-fail"}" aria-live="polite">',
            f"<h2>{escape(text('result_title', lang))}</h2>",
            f'<p class="wt-verdict">{escape(text("result_passed" if result.passed else "result_failed", lang))}</p>',
            '<p class="wt-score">'
            + escape(
                text(
                    "result_score",
                    lang,
                    score=result.score,
                    max_score=result.max_score,
                    share=round(result.share * 100),
                    mark=round(result.pass_mark * 100),
                )
            )
            + "</p>",
        ]
        if result.red_line_misses:
            items = "".join(
                f'<li data-question="{escape(q)}">{escape(q)}: '
                f"{escape(markup.one_line(quiz.catalog.questions[q], lang))}</li>"
                for q in result.red_line_misses
            )
            parts.append(
                f'<div class="wt-red-line-misses"><strong>{escape(text("red_line_missed", lang))}</strong><ul>{items}</ul></div>'
            )
        if result.rules_to_revisit:
            quotes = "".join(markup.rule_quote(quiz.catalog.rules[r], lang) for r in result.rules_to_revisit)
            parts.append(f'<div class="wt-revisit"><h3>{escape(text("revisit", lang))}</h3>{quotes}</div>')
        parts.append(
            f'<p class="wt-recorded">{escape(text("recorded", lang, id=quiz.outcome.submission.submission_id[:8]))}</p>'
        )
        parts.append("</section>")
        return [html("".join(parts)), button(text("new_attempt", lang), self.begin, "wt-again")]


def _answer_text(question, answer, lang: str, order) -> str:
    if question.type == "true_false":
        return ", ".join(text(a, lang) for a in answer)
    # Listed in display order with the letters the learner saw.
    return "; ".join(f"{letter}. {c.text.get(lang)}" for letter, c in shown_choices(question, order) if c.id in answer)
