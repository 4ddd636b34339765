"""The learner pages. A learner notebook is one import and one call of these."""

from __future__ import annotations

__all__ = ["show_module", "show_portal"]


def show_portal() -> None:
    """Display the portal for the server-side identity.

    Returns None on purpose: a value would be shown under the page as its repr.
    (`page.open_page` returns the page object, for tests.)
    """
    from .page import open_page

    open_page(None)


def show_module(module_id: str) -> None:
    """Display one module page (rules, scenarios, practice, graded quiz)."""
    from .page import open_page

    open_page(module_id)
