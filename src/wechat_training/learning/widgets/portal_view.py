"""The portal page: who you are, the modules due for you, their status, a way in."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from html import escape
from pathlib import Path

from ...content.catalog import Catalog
from ..identity import Identity
from ..status import statuses
from . import markup
from .controls import html, language_switch, vbox
from .labels import text

#: Set by `wechat-training serve` when it serves certificates: the download path, '{module}' filled in.
CERTIFICATE_LINK_VARIABLE = "WECHAT_TRAINING_CERTIFICATE_LINK"


class PortalPage:
    def __init__(
        self,
        catalog: Catalog,
        identity: Identity,
        course_dir: Path,
        lang: str,
        css: str,
        today: Callable[[], date] = date.today,
    ):
        self.catalog = catalog
        self.identity = identity
        self.lang = lang
        self.today = today()
        # Read once per page view: a visit shows the store as it is at the visit.
        self.rows = statuses(catalog, course_dir, identity.employee_id, self.today)
        self.switch = language_switch(lang, self.set_language)
        self.content = html("")
        self.widget = vbox([*([html(css)] if css else []), self.switch, self.content], "wt-page")
        self.draw()

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.draw()

    def draw(self) -> None:
        lang = self.lang
        self.switch.description = text("language", lang)
        who = escape(self.identity.display_name)
        if self.identity.name:
            who += f' <span class="wt-id">({escape(self.identity.employee_id)})</span>'
        self.content.value = (
            f'<h1 class="wt-title">{escape(text("portal_title", lang))}</h1>'
            f'<p class="wt-who">{escape(text("employee", lang))}: {who}</p>'
            + markup.portal_table(
                self.catalog, self.rows, lang, self.today, os.environ.get(CERTIFICATE_LINK_VARIABLE, "")
            )
        )
