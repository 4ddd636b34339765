"""Opening a learner page: settings from the server's environment, errors shown plainly.

A learner never sees a traceback (Voila strips them anyway and leaves a blank
page); any problem is shown as a message to pass on to the training contact.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs

from ...content.location import ContentRootError, page_settings
from ..identity import IdentityError, resolve, wait_for_visit
from .labels import DEFAULT_LANGUAGE


#: Set by `wechat-training serve`, whose page template links the stylesheet and the choice
#: script itself: a kernel then leaves both out of its widgets (5 KB less state per page).
ASSETS_IN_PAGE_VARIABLE = "WECHAT_TRAINING_ASSETS_IN_PAGE"


def _page_asset(name: str) -> str:
    # One copy, where the page template serves it from (page_template/.../wechat/static).
    static = resources.files("wechat_training.learning").joinpath("page_template/voila/templates/wechat/static")
    return static.joinpath(name).read_text(encoding="utf-8")


def assets_in_page() -> bool:
    return os.environ.get(ASSETS_IN_PAGE_VARIABLE) == "1"


def choice_state_script() -> str:
    return _page_asset("choices.js")


def stylesheet() -> str:
    """The learner pages' stylesheet as markup for a widget; empty when the page links it."""
    if assets_in_page():
        return ""
    return f"<style>{_page_asset('style.css')}</style>"


def language_of_visit() -> str:
    # Voila passes the query string of the visit (QUERY_STRING); only zh/en are accepted.
    values = parse_qs(os.environ.get("QUERY_STRING", "")).get("lang", [])
    return "en" if values and values[0] == "en" else DEFAULT_LANGUAGE


_catalogs: dict[Path, tuple[tuple, object]] = {}


def content_stamp(root: Path) -> tuple:
    """Names, sizes and mtimes of the content files: a changed file means a reload."""
    files = sorted(p for sub in ("rules", "quizzes") for p in (root / sub).rglob("*.y*ml"))
    files += [p for p in (root / "sources.yaml",) if p.is_file()]  # citations are checked against it
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def cached_catalog(root: Path):
    """The catalogue of `root`, loaded once per kernel (and inherited by forked kernels)."""
    from ...content.catalog import load_catalog

    stamp = content_stamp(root)
    hit = _catalogs.get(root)
    if hit is None or hit[0] != stamp:
        _catalogs[root] = (stamp, load_catalog(root))
    return _catalogs[root][1]


def open_page(module_id: str | None):
    import ipywidgets as w
    from IPython.display import Javascript, display

    from ...content.problems import ContentError
    from . import markup
    from .module_view import ModulePage
    from .portal_view import PortalPage

    # Imports, stylesheet and catalogue do not depend on the visitor: a
    # preheated kernel does them before it waits for one.
    css = stylesheet()
    try:
        root, course_dir = page_settings()
        catalog = cached_catalog(root)
        problem = None
    except (ContentError, ContentRootError, OSError) as exc:
        catalog, problem = None, exc
    wait_for_visit()
    lang = language_of_visit()
    try:
        if problem is not None:
            raise problem
        identity = resolve()
        if module_id is None:
            page = PortalPage(catalog, identity, course_dir, lang, css)
        else:
            page = ModulePage(catalog, module_id, identity, course_dir, lang, css)
    except (IdentityError, ContentError, KeyError, ValueError, OSError) as exc:
        page = w.HTML(css + markup.error_box(str(exc), lang))
        display(page)
        return page
    display(page.widget)
    if not assets_in_page():
        display(Javascript(choice_state_script()))
    return page
