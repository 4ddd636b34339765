"""One learner's page, measured: stock Voila vs `wechat-training serve`, side by side.

For one learner at a time (issue 11 §3), on a server whose pools have filled:

* kernel CPU seconds of the kernel that serves the page, from its start to the
  widget state delivered (for a preheated kernel split into before the visit,
  which a pool pays ahead, and after it); read from /proc of that kernel,
  found by the shell port of its connection file;
* widget models the page creates (models in the widget state the front end
  asks for) and the widget views the page's HTML displays;
* bytes of the page's HTML and bytes the kernel websocket carried to the page
  until the state was complete;
* server CPU seconds (Voila, and our kernel template) spent on the page;
* in a real headless Chromium, time from navigation start to the frame after the
  page's last widget (the rule cards, or the portal table) is in the DOM.

    python benchmarks/page.py [--module account_security|portal] [--visits 5] [--only stock|ours]

Not part of pytest. Prints each figure with its target and met/MISSED.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learners import (
    PAGE_TIMEOUT,
    REPO,
    Server,
    kernel_pids,
    settle,
    start,
    stop,
    OURS,
    STOCK,
    connect_kernel,
    cpu_seconds,
    server_cpu,
    widget_states,
    workspace,
)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
#: What the learner sees last: a module page's rule cards (its first tab), the portal's table.
LAST_WIDGET = {"module": ".wt-body .wt-card", "portal": ".wt-portal, .wt-empty"}
TARGET_KERNEL_CPU = 0.1
TARGET_PAINT = 1.0


@dataclass
class PageFigures:
    kernel_cpu: float
    kernel_cpu_before_visit: float
    server_cpu: float
    models: int
    views: int
    html_bytes: int
    websocket_bytes: int
    seconds: float


def listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def unix_socket_inodes(path: str) -> set[str]:
    inodes = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[7] == path:
            inodes.add(fields[6])
    return inodes


def kernel_pid(server: Server, runtime: Path, kernel_id: str) -> int:
    """The process listening on the kernel's shell channel (a forked kernel's command line is the template's)."""
    found = list(runtime.glob(f"**/kernel-{kernel_id}.json"))
    if not found:
        raise RuntimeError(f"no connection file of kernel {kernel_id} under {runtime}")
    info = json.loads(found[0].read_text())
    if info.get("transport") == "ipc":
        inodes = unix_socket_inodes(f"{info['ip']}-{info['shell_port']}")
    else:
        inodes = listening_inodes(info["shell_port"])
    sockets = {f"socket:[{inode}]" for inode in inodes}
    for pid in kernel_pids(server):
        try:
            links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        except OSError:
            continue
        if links & sockets:
            return pid
    raise RuntimeError(f"no process listens on kernel {kernel_id}'s shell port {info['shell_port']}")


async def protocol_visit(server: Server, path: str, runtime: Path) -> PageFigures:
    """Fetch the page and its widget state the way the ipywidgets front end does."""
    before = {pid: cpu_seconds(pid) for pid in kernel_pids(server)}
    server_before = server_cpu(server, cpu_seconds)
    client = AsyncHTTPClient(force_instance=True)
    t0 = time.monotonic()
    try:
        response = await client.fetch(HTTPRequest(server.url + path, request_timeout=PAGE_TIMEOUT))
    finally:
        client.close()
    html = response.body.decode()
    kernel = re.search(r'"kernelId": "([0-9a-f-]{36})"', html)
    views = re.findall(r'"model_id": "([0-9a-f]{32})"', html)
    if not kernel or not views:
        raise RuntimeError(f"{server.name}: the page holds no kernel or no widget view")
    kernel_id = kernel.group(1)
    ws = await connect_kernel(server.port, kernel_id)
    try:
        states, received = await widget_states(ws)
        if states is None:
            raise RuntimeError(f"{server.name}: the kernel websocket closed before the widget state came")
        seconds = time.monotonic() - t0
        missing = [v for v in views if v not in states]
        if missing:
            raise RuntimeError(f"{server.name}: {len(missing)} displayed widget(s) missing from the kernel state")
        pid = kernel_pid(server, runtime, kernel_id)
        total = cpu_seconds(pid)
        return PageFigures(
            kernel_cpu=total,
            kernel_cpu_before_visit=before.get(pid, 0.0),
            server_cpu=server_cpu(server, cpu_seconds) - server_before,
            models=len(states),
            views=len(views),
            html_bytes=len(response.body),
            websocket_bytes=received,
            seconds=seconds,
        )
    finally:
        ws.close()


def paint_seconds(url: str, selector: str, visits: int, between) -> list[float]:
    """Navigation start to the frame after `selector` appears, in a fresh browser context each visit."""
    from playwright.sync_api import sync_playwright

    wait = """selector => new Promise(done => {
        const check = () => document.querySelector(selector)
            ? requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())))
            : requestAnimationFrame(check);
        check();
    })"""
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(visits):
                between()
                context = browser.new_context()
                page = context.new_page()
                page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT * 1000)
                times.append(page.evaluate(wait, selector) / 1000)
                context.close()
        finally:
            browser.close()
    return times


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="account_security", help="a module id, or 'portal'")
    parser.add_argument("--visits", type=int, default=15, help="visits per server (medians are printed)")
    parser.add_argument("--root", default=str(REPO), help="content root (default: the shipped content)")
    parser.add_argument("--only", choices=["stock", "ours"], default=None)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium paint time")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    work, env, servers = workspace(root, "wt-page-bench-")
    # Voila writes the kernels' connection files under a voila_* folder of its TMPDIR.
    runtime = work / "tmp"
    runtime.mkdir()
    env["TMPDIR"] = str(runtime)
    path = f"/voila/render/{args.module}.ipynb"
    selector = LAST_WIDGET["portal" if args.module == "portal" else "module"]
    print(f"cpus={os.cpu_count()} page={path} visits={args.visits} load={os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, tuple[list[PageFigures], list[float]]] = {}
    for name, argv in servers.items():
        if args.only and (args.only == "stock") != name.startswith("stock"):
            continue
        server = start(name, argv, env, work)
        try:
            figures = []
            for _ in range(args.visits):
                settle(server, quiet=2.0)  # the pool has refilled: the visit finds a preheated kernel
                figures.append(asyncio.run(protocol_visit(server, path, runtime)))
            paints = []
            if not args.no_browser:
                paints = paint_seconds(server.url + path, selector, args.visits, lambda: settle(server, quiet=2.0))
        finally:
            stop(server)
        results[name] = (figures, paints)
    shutil.rmtree(work, ignore_errors=True)

    def median(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    print()
    print("| figure (median of visits) | " + " | ".join(results) + " | target | ours |")
    print("|---|" + "---:|" * len(results) + "---:|---|")
    ours = results.get(OURS)
    def of(figure: Callable[[PageFigures], float]) -> Callable[[list[PageFigures]], float]:
        return lambda visits: median([figure(v) for v in visits])

    rows = [
        ("kernel CPU s, start to state delivered", of(lambda v: v.kernel_cpu), TARGET_KERNEL_CPU, "{:.3f}"),
        ("  of which before the visit (preheat)", of(lambda v: v.kernel_cpu_before_visit), None, "{:.3f}"),
        ("  of which for the visit", of(lambda v: v.kernel_cpu - v.kernel_cpu_before_visit), None, "{:.3f}"),
        ("server CPU s (Voila + kernel template)", of(lambda v: v.server_cpu), None, "{:.3f}"),
        ("widget models created", of(lambda v: v.models), None, "{:.0f}"),
        ("widget views displayed", of(lambda v: v.views), None, "{:.0f}"),
        ("page HTML bytes", of(lambda v: v.html_bytes), None, "{:,.0f}"),
        ("websocket bytes to the page", of(lambda v: v.websocket_bytes), None, "{:,.0f}"),
        ("request to state delivered s", of(lambda v: v.seconds), None, "{:.2f}"),
    ]
    for label, value_of, target, fmt in rows:
        cells = [fmt.format(value_of(figs)) for figs, _ in results.values()]
        met = verdict(value_of(ours[0]), target) if ours and target is not None else ""
        print(f"| {label} | " + " | ".join(cells) + f" | {'' if target is None else f'≤ {target}'} | {met} |")
    if not args.no_browser:
        cells = [f"{median(paints):.2f}" for _, paints in results.values()]
        met = verdict(median(ours[1]), TARGET_PAINT) if ours else ""
        label = "Chromium: navigation to last widget painted s"
        print(f"| {label} | " + " | ".join(cells) + f" | ≤ {TARGET_PAINT} | {met} |")
    if len(results) == 2 and ours:
        stock_figs = results[STOCK][0]
        ratio = median([x.kernel_cpu for x in stock_figs]) / max(median([x.kernel_cpu for x in ours[0]]), 1e-9)
        print(f"\nkernel CPU per page stock/ours = {ratio:.1f}x")


if __name__ == "__main__":
    main()
