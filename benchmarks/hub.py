"""N employees log in to the hub and open the portal at once (issue 13).

Starts `wechat-training hub` as the README runs it (shared portal service,
SQLite gradebook holding a roster of N fictional employees, loopback ports),
then drives N logins at the same moment in headless Chromium (one browser,
one context per employee). Per employee it measures, from pressing "Sign in":

* time to first usable page: the portal shows the employee's roster name and
  the module links (widgets rendered by their kernel);

and over the run: memory (PSS) of every process the hub started (hub, proxy,
services, kernels) before the logins and with all N portals open, so
"per employee" = the growth divided by N; the load average before and the
highest seen during the run (other work on the machine shares the CPUs).

    python benchmarks/hub.py [--users 20] [--pool-size 2] [--timeout 600]

Not part of pytest. Needs jupyterhub, configurable-http-proxy, Playwright and
/usr/bin/chromium (scripts/setup.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PASSWORD = "benchmark-only-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(root: int) -> list[int]:
    """`root` and every process below it (kernels call setsid, so a session would miss them)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_pss_mb(root: int) -> tuple[float, int]:
    """Summed PSS (MB) and count of the hub's process tree (hub, proxy, services, kernels)."""
    total_kb, count = 0, 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total_kb += int(line.split()[1])
                        count += 1
                        break
        except OSError:
            continue
    return total_kb / 1024, count


def wait_for(url: str, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=3) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the hub did not answer {url}")


async def one_employee(browser, url: str, employee_id: str, name: str, timeout_s: float) -> float | None:
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    try:
        await page.goto(url + "/hub/login")
        await page.fill("#username_input", employee_id)
        await page.fill("#password_input", PASSWORD)
        start = time.monotonic()
        await page.click("#login_submit")
        await page.get_by_text(name).first.wait_for()
        await page.locator("a.wt-open").first.wait_for()
        return time.monotonic() - start
    except Exception as exc:  # noqa: BLE001 - a failed login is a result to count, not a crash
        print(f"{employee_id}: no usable page ({type(exc).__name__})", file=sys.stderr)
        return None
    # The page stays open (closed with the browser): memory is read with all N open.


async def run(args: argparse.Namespace, url: str, session: int) -> None:
    from playwright.async_api import async_playwright

    people = [(f"E9{i:05d}", f"Bench Person {i:03d}") for i in range(args.users)]
    loads: list[float] = []

    async def sample_load(stop: asyncio.Event) -> None:
        while not stop.is_set():
            loads.append(os.getloadavg()[0])
            await asyncio.sleep(1)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        before_mb, before_n = tree_pss_mb(session)
        load_before = os.getloadavg()[0]
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_load(stop))
        began = time.monotonic()
        times = await asyncio.gather(*(one_employee(browser, url, e, n, args.timeout) for e, n in people))
        wall = time.monotonic() - began
        await asyncio.sleep(2)
        after_mb, after_n = tree_pss_mb(session)
        stop.set()
        await sampler
        await browser.close()

    usable = sorted(t for t in times if t is not None)
    print(f"\n{args.users} employees logging in at once (pool size {args.pool_size}), wall {wall:.0f} s")
    print(f"usable portal pages: {len(usable)}/{args.users}")
    if usable:
        print(
            f"time to first usable page: median {statistics.median(usable):.1f} s, "
            f"p90 {usable[int(0.9 * (len(usable) - 1))]:.1f} s, max {usable[-1]:.1f} s"
        )
    print(
        f"hub process tree PSS: {before_mb:.0f} MB in {before_n} processes before logins, "
        f"{after_mb:.0f} MB in {after_n} with all portals open"
    )
    print(f"memory per employee (PSS growth / N): {(after_mb - before_mb) / args.users:.0f} MB")
    print(
        f"load average (1 min): {load_before:.1f} before, max {max(loads, default=0):.1f} during, {os.cpu_count()} CPUs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20, help="Employees logging in at once.")
    parser.add_argument("--pool-size", type=int, default=2, help="Preheated portal kernels (hub --pool-size).")
    parser.add_argument("--timeout", type=float, default=600, help="Seconds one employee waits for a usable page.")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="wt-bench-hub-"))
    course = base / "course"
    roster = base / "roster.csv"
    rows = ["employee_id,name,department,role"] + [
        f"E9{i:05d},Bench Person {i:03d},{'Sales' if i % 2 else 'Engineering'},Staff" for i in range(args.users)
    ]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    kit = [sys.executable, "-m", "wechat_training"]
    subprocess.run([*kit, "roster", "import", str(roster), "--course-dir", str(course)], check=True)
    port = free_port()
    env = {
        **os.environ,
        "WECHAT_TRAINING_HUB_API_PORT": str(free_port()),
        "WECHAT_TRAINING_HUB_PROXY_API_PORT": str(free_port()),
        "WECHAT_TRAINING_HUB_PORTAL_PORT": str(free_port()),
        "WECHAT_TRAINING_HUB_HR_PORT": str(free_port()),
        "WECHAT_TRAINING_CAMPAIGN": str(REPO / "campaign.yaml"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    log = open(base / "hub.log", "wb")  # noqa: SIM115 - open for the hub's whole life
    proc = subprocess.Popen(
        [*kit, "hub", "--root", str(REPO), "--port", str(port), "--course-dir", str(course)]
        + ["--pool-size", str(args.pool_size), "--demo-password", PASSWORD, "--grade-every", "3600"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/hub/login", proc, 120)
        portal = f"http://127.0.0.1:{env['WECHAT_TRAINING_HUB_PORTAL_PORT']}/services/portal/voila/static/voila.js"
        wait_for(portal, proc, 300)
        time.sleep(5)  # let the preheated pool fill, as it would be before a morning's logins
        asyncio.run(run(args, url, proc.pid))
        print(f"hub log: {base / 'hub.log'}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
