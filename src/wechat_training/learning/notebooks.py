"""The learner notebooks served by Voila: `portal.ipynb` and one per module.

Each is one code cell, one import and one call; all logic is in the package.
They are generated, deterministically (same module list, same bytes: fixed
cell ids, sorted keys, no outputs), so the committed `notebooks/` can be
checked against the generator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..content.schema import AREAS

PORTAL = "portal"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def portal_source() -> str:
    return "from wechat_training.learning.widgets import show_portal\nshow_portal()"


def module_source(module_id: str) -> str:
    if module_id not in AREAS:
        raise ValueError(f"unknown module {module_id!r}; modules are {', '.join(AREAS)}")
    return f'from wechat_training.learning.widgets import show_module\nshow_module("{module_id}")'


def notebook_text(cell_id: str, source: str) -> str:
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": cell_id,
                "metadata": {},
                "outputs": [],
                "source": source.splitlines(keepends=True),
            }
        ],
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def notebooks(module_ids: Iterable[str]) -> dict[str, str]:
    """File name -> text of every learner notebook, portal first, modules in area order."""
    wanted = set(module_ids)
    unknown = wanted - set(AREAS)
    if unknown:
        raise ValueError(f"unknown module(s) {', '.join(sorted(unknown))}; modules are {', '.join(AREAS)}")
    texts = {f"{PORTAL}.ipynb": notebook_text(PORTAL, portal_source())}
    for module_id in AREAS:
        if module_id in wanted:
            texts[f"{module_id}.ipynb"] = notebook_text(module_id, module_source(module_id))
    return texts


def write(directory: Path, module_ids: Iterable[str]) -> list[Path]:
    """Write the notebooks; files already holding the same bytes are left untouched."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in notebooks(module_ids).items():
        path = directory / name
        data = content.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    return written


def is_current(directory: Path, module_ids: Iterable[str]) -> bool:
    """True when `directory` holds these notebooks byte for byte (other files are not ours to judge)."""
    directory = Path(directory)
    return all(
        (directory / name).is_file() and (directory / name).read_bytes() == text.encode("utf-8")
        for name, text in notebooks(module_ids).items()
    )
