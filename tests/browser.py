"""How the tests reach a real browser and a free loopback port."""

from __future__ import annotations

import contextlib
import os
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


@contextlib.contextmanager
def running_server(
    command: list[str], ready_url: str, log_path: Path, *, env: dict[str, str], cwd: Path, startup_seconds: float = 90
) -> Iterator[subprocess.Popen]:
    """`command` started in its own session, until `ready_url` answers below 500; then stopped
    with its whole process group (SIGTERM, SIGKILL after 20 s). Its output goes to `log_path`."""
    import httpx

    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + startup_seconds
            while True:
                try:
                    if httpx.get(ready_url, timeout=2).status_code < 500:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"{command[:3]} did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
                    )
                time.sleep(0.5)
            yield server
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
