"""Small ipywidgets building blocks shared by the learner views.

Every input is a real <button> or a labelled <input>, so the pages work with
Tab/Space/Enter alone and a screen reader names every control. Every widget
made here shares its layout and style models (`shared_models`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import ipywidgets as w

from ...content.choice_order import position_label
from ...content.schema import Choice, Question
from .labels import LANGUAGES, text
from .shared_models import auto_width, button_style, checkbox_style, html_style, plain_layout, toggle_style


def html(markup: str, css: str = "") -> w.HTML:
    widget = w.HTML(markup, layout=plain_layout(), style=html_style())
    if css:
        widget.add_class(css)
    return widget


def vbox(children: Sequence[w.Widget] = (), css: str = "") -> w.VBox:
    box = w.VBox(list(children), layout=plain_layout())
    if css:
        box.add_class(css)
    return box


def hbox(children: Sequence[w.Widget] = (), css: str = "") -> w.HBox:
    box = w.HBox(list(children), layout=plain_layout())
    if css:
        box.add_class(css)
    return box


def toggle_buttons(options: Sequence, value: object, description: str, css: str = "") -> w.ToggleButtons:
    toggle = w.ToggleButtons(
        options=list(options), value=value, description=description, layout=plain_layout(), style=toggle_style()
    )
    if css:
        toggle.add_class(css)
    return toggle


def button(label: str, on_click: Callable[[], None], css: str = "", primary: bool = False) -> w.Button:
    widget = w.Button(
        description=label,
        tooltip=label,
        button_style="primary" if primary else "",
        layout=auto_width(),
        style=button_style(),
    )
    widget.on_click(lambda _: on_click())
    widget.add_class("wt-button")
    if css:
        widget.add_class(css)
    return widget


def language_switch(lang: str, on_change: Callable[[str], None]) -> w.ToggleButtons:
    switch = toggle_buttons(LANGUAGES, lang, text("language", lang), "wt-language")
    switch.observe(lambda change: on_change(change["new"]), names="value")
    return switch


def shown_choices(question: Question, order: Sequence[str]) -> list[tuple[str, Choice]]:
    """(position letter, choice) in display order; letters follow the position, not the id."""
    by_id = {c.id: c for c in question.choices or ()}
    ids = [cid for cid in order if cid in by_id] or list(by_id)
    return [(position_label(i), by_id[cid]) for i, cid in enumerate(ids)]


def choice_input(
    question: Question,
    lang: str,
    current: Sequence[str],
    on_change: Callable[[list[str]], None],
    order: Sequence[str] = (),
) -> w.Widget:
    """The answer control of a question, choices in `order` (choice ids; default: as written);
    reports every change as a list of choice ids."""
    label = text("your_answer", lang)
    shown = shown_choices(question, order)
    if question.type == "multiple":
        boxes = []
        for letter, choice in shown:
            box = w.Checkbox(
                value=choice.id in current,
                description=f"{letter}. {choice.text.get(lang)}",
                indent=False,
                layout=auto_width(),
                style=checkbox_style(),
            )
            box.add_class("wt-choice")
            boxes.append((choice.id, box))

        def report(_change: object) -> None:
            on_change([cid for cid, box in boxes if box.value])

        for _, box in boxes:
            box.observe(report, names="value")
        return vbox([html(f'<span class="wt-choice-label">{label}</span>')] + [b for _, b in boxes], "wt-choices")
    if question.type == "true_false":
        options = [(text("true", lang), "true"), (text("false", lang), "false")]
    else:
        options = [(f"{letter}. {c.text.get(lang)}", c.id) for letter, c in shown]
    toggle = toggle_buttons(options, current[0] if current else None, label, "wt-choices")
    toggle.add_class("wt-single")
    toggle.observe(lambda change: on_change([] if change["new"] is None else [change["new"]]), names="value")
    return toggle


def close_tree(widgets: Iterable[w.Widget], keep: frozenset[int] = frozenset()) -> None:
    """Close replaced widgets so a long session does not pile up comms in the kernel."""
    for widget in widgets:
        if id(widget) in keep:
            continue
        children = getattr(widget, "children", ())
        close_tree(children, keep)
        widget.close()
