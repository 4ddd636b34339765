"""Layout and style models shared by every widget of a kernel.

ipywidgets gives each widget a Layout model, and most a Style model, of its own
unless handed one: a module page of 7 widgets made 19 models, each a comm the
kernel opens, a state it serialises and a model the browser builds. None of
ours is changed after it is made, so one of each kind serves every widget.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import ipywidgets as w
from ipywidgets.widgets.widget_bool import CheckboxStyle
from ipywidgets.widgets.widget_selection import ToggleButtonsStyle
from ipywidgets.widgets.widget_string import HTMLStyle

_models: dict[tuple[int, str], w.Widget] = {}


def _one(kind: str, make: Callable[[], w.Widget]) -> w.Widget:
    # Keyed by process as well: a model belongs to its kernel's comms, so a kernel
    # forked from a process that made one must still make its own.
    key = (os.getpid(), kind)
    model = _models.get(key)
    if model is None or model.comm is None:  # closed models cannot be displayed again
        model = _models[key] = make()
    return model


def plain_layout() -> w.Layout:
    return _one("layout", w.Layout)


def auto_width() -> w.Layout:
    return _one("auto-width", lambda: w.Layout(width="auto"))


def html_style() -> HTMLStyle:
    return _one("html", HTMLStyle)


def button_style() -> w.ButtonStyle:
    return _one("button", w.ButtonStyle)


def checkbox_style() -> CheckboxStyle:
    return _one("checkbox", CheckboxStyle)


def toggle_style() -> ToggleButtonsStyle:
    """Toggle buttons as wide as their labels (the language switch, sections, answers)."""
    return _one("toggle", lambda: ToggleButtonsStyle(button_width="auto"))
