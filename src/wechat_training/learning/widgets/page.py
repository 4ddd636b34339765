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


def choice_state_script() -> str:
    return resources.files(__package__).joinpath("choices.js").read_text(encoding="utf-8")


def stylesheet() -> str:
    css = resources.files(__package__).joinpath("style.css").read_text(encoding="utf-8")
    return f"<style>{css}</style>"


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
    display(Javascript(choice_state_script()))
    return page
