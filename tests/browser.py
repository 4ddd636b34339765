"""How the tests reach a real browser and a free loopback port."""

from __future__ import annotations

import socket

#: Debian's Chromium, driven by Playwright through executable_path (never `playwright install`).
CHROMIUM = "/usr/bin/chromium"
#: As root Chromium needs --no-sandbox; without the background-networking flags it keeps
#: trying hosts this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
