"""How the tests reach a real browser and a free loopback port."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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


@contextlib.contextmanager
def running_serve(
    workdir: Path, *args: str, startup_seconds: float = 90, python: str = sys.executable
) -> Iterator[tuple[subprocess.Popen, str]]:
    """The real `wechat-training serve` (as the README runs it) on a free port, until it answers.

    `python` is the interpreter whose installed kit serves (another venv's, say).

    Yields the process and its base URL; its log is `workdir/serve.log`. On exit it is
    stopped with SIGTERM, on which Voila shuts its kernels down.
    """
    port = free_port()
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [python, "-m", "wechat_training", "serve", "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_seconds
            while True:
                try:
                    urllib.request.urlopen(url + "/voila/static/voila.js", timeout=2)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(
                            f"serve did not start: {log_path.read_text(errors='replace')[-3000:]}"
                        ) from None
                    time.sleep(0.3)
            yield proc, url
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
