"""Where Ralph (xAPI models and LRS) lives: its own virtual environment, since its pins
(fastapi, pydantic-settings, importlib-metadata) need not match ours.

Made by: python3 -m venv ~/.cache/wechat-training/ralph-venv &&
~/.cache/wechat-training/ralph-venv/bin/pip install "ralph-malph[cli,lrs]==5.1.0"
(or point WECHAT_TRAINING_RALPH_VENV at another one).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

RALPH_VENV = Path(os.environ.get("WECHAT_TRAINING_RALPH_VENV", Path.home() / ".cache/wechat-training/ralph-venv"))
RALPH_PYTHON = RALPH_VENV / "bin" / "python"
RALPH = RALPH_VENV / "bin" / "ralph"


def require_ralph() -> None:
    if not RALPH.exists():
        pytest.skip(
            f"Ralph is not installed in {RALPH_VENV}: run 'python3 -m venv {RALPH_VENV} && "
            f'{RALPH_VENV}/bin/pip install "ralph-malph[cli,lrs]==5.1.0"\''
        )
