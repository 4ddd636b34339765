"""N learners open a module at once: stock Voila vs `wechat-training serve`, side by side.

Measured server side (a browser's own CPU would swamp the figure on a 2-core
machine): each simulated learner fetches the module page, opens the kernel
websocket with the protocol the page's JupyterLab code asks for (v1, binary
frames the server relays undecoded) and asks for the widget state the way the
ipywidgets front end does (`jupyter.widget.control` comm, `request_states`). "Live" means the
state holds the model of the widget view the page displays. A page whose
HTML lacks that view, or whose state lacks its model, counts as missing.

Then the learners leave (websockets closed) and we count, 60 s later, the
kernels of those learners still running. RSS/PSS/USS of the learners'
kernels are read from /proc while they are all open, and the CPU the crowd cost
(the server with its kernel template, the kernels, these simulated learners).

    python benchmarks/learners.py [--sizes 1,10,25,50] [--module account_security] [--linger 60]

Not part of pytest. Prints a table and the ratios stock/ours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_server.services.kernels.connection.base import (
    deserialize_msg_from_ws_v1,
    serialize_msg_to_ws_v1,
)
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from wechat_training.content.catalog import load_catalog
from wechat_training.learning import notebooks as learner_notebooks

EMPLOYEE = "E000042"
PAGE_TIMEOUT = 300
TARGET_P95 = 3.0  # seconds, server side, at 50 learners
TARGET_P95_LEARNERS = 50
TARGET_MB_PER_LEARNER = 60  # PSS, from 10 learners on
CONTROL_PROTOCOL = "1.0.0"  # ipywidgets 8 widget control comm; the kernel closes the comm on a mismatch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Visit:
    seconds: float | None = None
    error: str = ""
    kernel_id: str = ""
    ws: object = None


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path
    workdir: Path
    ready_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"{name}.log"
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [a.replace("{port}", str(port)) for a in argv],
        stdout=open(log, "wb"),  # noqa: SIM115 - the server writes it until stopped
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        cwd=workdir,
        start_new_session=True,
    )
    server = Server(name, proc, port, log, workdir)
    import urllib.request

    while True:
        try:
            urllib.request.urlopen(server.url + "/voila/static/voila.js", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{name} did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
    server.ready_s = time.monotonic() - t0
    return server


def stop(server: Server) -> None:
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.proc.pid, signal.SIGKILL)
    # Kernels are in the server's session; stock Voila leaves none on SIGTERM either.
    try:
        os.killpg(server.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        table[int(entry.name)] = (ppid, cmd)
    return table


def kernel_pids(server: Server) -> list[int]:
    """Every kernel process of this server: spawned (ipykernel_launcher) or forked from our template."""
    table = _processes()
    descendants, frontier = set(), {server.proc.pid}
    while frontier:
        frontier = {pid for pid, (ppid, _) in table.items() if ppid in frontier} - descendants
        descendants |= frontier
    kernels = []
    for pid in descendants:
        ppid, cmd = table[pid]
        if "ipykernel_launcher" in cmd or ("wechat_training.learning.forked_kernels" in cmd and ppid != server.proc.pid):
            kernels.append(pid)
    return sorted(kernels)


def template_pids(server: Server) -> list[int]:
    return [
        pid for pid, (ppid, cmd) in _processes().items() if ppid == server.proc.pid and "wechat_training.learning.forked_kernels" in cmd
    ]


def cpu_seconds(pid: int) -> float:
    """CPU time of a process's live threads, in nanoseconds from schedstat (utime/stime in
    /proc/PID/stat count in 10 ms ticks, too coarse for a page). A thread that has
    ended (the visit's short-lived websocket reader) is missing: the figure is a floor."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        return 0.0
    return total / 1e9


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a whole process, its ended threads included (10 ms ticks:
    coarse for one page, fine summed over a crowd); 0 when it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(server: Server, read=process_cpu) -> float:
    """CPU seconds of the Voila server and its kernel template, read by `read`."""
    return read(server.proc.pid) + sum(read(pid) for pid in template_pids(server))


def settle(server: Server, quiet: float = 5.0, limit: float = 180.0) -> int:
    """Wait until the server's kernel count has not changed for `quiet` seconds (pools filled)."""
    deadline = time.monotonic() + limit
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(kernel_pids(server))
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        time.sleep(0.5)
    return last


def memory(pid: int) -> tuple[float, float, float]:
    """RSS, PSS, USS of one process in MB (0 when it has gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            lines = handle.readlines()
    except OSError:
        return 0.0, 0.0, 0.0
    kb: dict[str, int] = {}
    for line in lines:
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            kb[key] = int(fields[0])
    uss = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    return kb.get("Rss", 0) / 1024, kb.get("Pss", 0) / 1024, uss / 1024


# JupyterLab's kernel connection (hence Voila's page) asks for this websocket protocol, and
# both servers accept it: the server relays the kernel's frames without decoding them.
KERNEL_WS_PROTOCOL = "v1.kernel.websocket.jupyter.org"


def message(msg_type: str, content: dict, session: str, metadata: dict | None = None) -> bytes:
    """A shell message framed as the v1 kernel websocket protocol frames it."""
    header = {
        "msg_id": uuid.uuid4().hex,
        "username": "bench",
        "session": session,
        "msg_type": msg_type,
        "version": "5.3",
        "date": "",
    }
    parts = [json.dumps(part).encode() for part in (header, {}, metadata or {}, content)]
    return serialize_msg_to_ws_v1(parts, "shell")


async def connect_kernel(port: int, kernel_id: str, timeout: float = PAGE_TIMEOUT):
    """The page's kernel websocket, opened as the page opens it."""
    ws = await websocket_connect(
        HTTPRequest(
            f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}",
            connect_timeout=timeout,
        ),
        subprotocols=[KERNEL_WS_PROTOCOL],
    )
    if ws.selected_subprotocol != KERNEL_WS_PROTOCOL:
        ws.close()
        raise RuntimeError(f"the server refused the {KERNEL_WS_PROTOCOL} websocket protocol")
    return ws


async def widget_states(ws, timeout: float = PAGE_TIMEOUT) -> tuple[dict | None, int]:
    """Ask the kernel for every widget's state as the ipywidgets front end does
    (`jupyter.widget.control` comm, `request_states`): (states by model id, or None
    if the websocket closed first; bytes received meanwhile)."""
    session, comm_id = uuid.uuid4().hex, uuid.uuid4().hex
    ws.write_message(
        message(
            "comm_open",
            {"comm_id": comm_id, "target_name": "jupyter.widget.control", "data": {}},
            session,
            {"version": CONTROL_PROTOCOL},
        ),
        binary=True,
    )
    request = message("comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}}, session)
    ws.write_message(request, binary=True)
    received = 0
    deadline = time.monotonic() + timeout
    while True:
        raw = await asyncio.wait_for(ws.read_message(), timeout=deadline - time.monotonic())
        if raw is None:
            return None, received
        received += len(raw)
        if isinstance(raw, str):
            raise RuntimeError("a text frame on a v1 kernel websocket")
        channel, parts = deserialize_msg_from_ws_v1(raw)
        if channel != "iopub" or json.loads(parts[0]).get("msg_type") != "comm_msg":
            continue
        data = json.loads(parts[3]).get("data", {})
        if data.get("method") == "update_states":
            return data.get("states", {}), received


async def visit(server: Server, path: str, client: AsyncHTTPClient) -> Visit:
    result = Visit()
    t0 = time.monotonic()
    try:
        response = await client.fetch(
            HTTPRequest(server.url + path, request_timeout=PAGE_TIMEOUT, connect_timeout=PAGE_TIMEOUT)
        )
        html = response.body.decode()
        kernel = re.search(r'"kernelId": "([0-9a-f-]{36})"', html)
        views = re.findall(r'"model_id": "([0-9a-f]{32})"', html)
        if not kernel:
            result.error = "no kernel id in page"
            return result
        if not views:
            result.error = "page has no widget view (output missing)"
            return result
        result.kernel_id = kernel.group(1)
        ws = await connect_kernel(server.port, result.kernel_id)
        result.ws = ws
        states, _ = await widget_states(ws, PAGE_TIMEOUT)
        if states is None:
            result.error = "websocket closed"
            return result
        missing = [v for v in views if v not in states]
        if missing:
            result.error = f"{len(missing)} displayed widget(s) missing from the kernel state"
        else:
            result.seconds = time.monotonic() - t0
        return result
    except Exception as exc:  # noqa: BLE001 - a benchmark reports every failure kind
        import traceback

        result.error = f"{type(exc).__name__}: {exc} {traceback.format_exc()[-600:]}"
    return result


async def crowd(server: Server, path: str, n: int) -> tuple[list[Visit], list[tuple[float, float, float]], dict[str, float]]:
    """All learners arrive at once; memory is read while every tab is still open; then they leave."""
    client = AsyncHTTPClient(max_clients=max(n, 10), force_instance=True)
    server_before = server_cpu(server)
    kernels_before = {pid: process_cpu(pid) for pid in kernel_pids(server)}
    client_before = time.process_time()
    try:
        visits = list(await asyncio.gather(*(visit(server, path, client) for _ in range(n))))
    finally:
        client.close()
    kernels = kernel_pids(server)
    # Where the crowd's CPU went: the server, the kernels (the learners' and the pool's refill),
    # and these simulated learners themselves, which share the machine's cores.
    cpu = {
        "server_cpu": server_cpu(server) - server_before,
        "kernel_cpu": sum(process_cpu(pid) - kernels_before.get(pid, 0.0) for pid in kernels),
        "client_cpu": time.process_time() - client_before,
    }
    mem = [memory(pid) for pid in kernels + template_pids(server)]
    for v in visits:  # the learners leave: their tabs close
        if v.ws is not None:
            v.ws.close()
    await asyncio.sleep(0.5)
    return visits, mem, cpu


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def measure(server: Server, path: str, n: int, linger: float) -> dict:
    idle_kernels = len(kernel_pids(server))
    visits, mem, cpu = asyncio.run(crowd(server, path, n))
    times = [v.seconds for v in visits if v.seconds is not None]
    errors = [v.error for v in visits if v.error]
    row = {
        "server": server.name,
        "n": n,
        "ok": len(times),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "p50": statistics.median(times) if times else float("nan"),
        "p95": p95(times) if times else float("nan"),
        "max": max(times) if times else float("nan"),
        # Every kernel process of the server (pool, template and learners) while all N are connected.
        "kernels": len(mem),
        "rss": statistics.mean(m[0] for m in mem) if mem else float("nan"),
        "pss": sum(m[1] for m in mem) / n,
        "uss": sum(m[2] for m in mem) / n,
        "idle": idle_kernels,
        **{key: seconds / n for key, seconds in cpu.items()},
    }
    time.sleep(linger)
    # Kernels beyond the idle pool the server kept before the learners came.
    row["left"] = max(0, len(kernel_pids(server)) - idle_kernels)
    return row


STOCK, OURS = "stock voila", "wechat-training serve"


def workspace(root: Path, prefix: str) -> tuple[Path, dict[str, str], dict[str, list[str]]]:
    """A temporary folder with the learner notebooks; the servers' environment; the command
    line of each server ('{port}' to fill in): stock Voila on the notebooks, and ours."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    notebooks = work / "notebooks"
    learner_notebooks.write(notebooks, sorted(load_catalog(root).modules))
    env = {
        "WECHAT_TRAINING_ROOT": str(root),
        "WECHAT_TRAINING_COURSE_DIR": str(work / "course"),
        "WECHAT_TRAINING_EMPLOYEE": EMPLOYEE,
    }
    servers = {
        STOCK: [sys.executable, "-m", "voila", str(notebooks), "--no-browser", "--port={port}"]
        + ["--Voila.ip=127.0.0.1"],
        OURS: [sys.executable, "-m", "wechat_training", "serve", "--root", str(root)]
        + ["--course-dir", str(work / "course"), "--port", "{port}", "--employee", EMPLOYEE],
    }
    return work, env, servers


def main() -> None:
    global PAGE_TIMEOUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,25,50")
    parser.add_argument("--module", default="account_security")
    parser.add_argument("--root", default=str(REPO), help="content root (default: the shipped content)")
    parser.add_argument("--linger", type=float, default=60.0, help="seconds after leaving before counting kernels")
    parser.add_argument(
        "--pool-size", type=int, default=None, help="ours: preheated kernels per page (default: serve's)"
    )
    parser.add_argument("--only", choices=["stock", "ours"], default=None)
    parser.add_argument("--timeout", type=float, default=PAGE_TIMEOUT, help="seconds before a page counts as failed")
    args = parser.parse_args()
    PAGE_TIMEOUT = args.timeout
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(args.root).resolve()
    work, env, servers = workspace(root, "wt-bench-")
    if args.pool_size is not None:
        servers[OURS] += ["--pool-size", str(args.pool_size)]
    path = f"/voila/render/{args.module}.ipynb"
    rows = []
    print(f"cpus={os.cpu_count()} module={args.module} root={root} work={work}", flush=True)
    for n in sizes:
        for name, argv in servers.items():
            if args.only and (args.only == "stock") != name.startswith("stock"):
                continue
            server = start(name, argv, env, work)
            # Let the pools fill, as on a server that has been up for a while.
            settle(server)
            try:
                row = measure(server, path, n, args.linger)
            finally:
                stop(server)
            rows.append(row)
            print(
                f"  {name:22} n={n:3} ok={row['ok']:3} err={row['errors']:2} p50={row['p50']:6.2f}s "
                f"p95={row['p95']:6.2f}s kernels={row['kernels']} RSS/kernel={row['rss']:5.1f}MB PSS/learner={row['pss']:5.1f}MB "
                f"USS/learner={row['uss']:5.1f}MB left={row['left']} CPU/learner server={row['server_cpu']:.3f}s "
                f"kernels={row['kernel_cpu']:.3f}s learners'={row['client_cpu']:.3f}s {row['first_error']}",
                flush=True,
            )
    if any(r["errors"] for r in rows):
        print(f"pages failed: the servers' logs are kept in {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(
        "| N | server | live/N | p50 s | p95 s | max s | kernel procs | RSS MB/kernel | PSS MB/learner | "
        f"USS MB/learner | learner kernels left after {args.linger:.0f}s | CPU s/learner: server | kernels | simulated learner |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']} | {r['server']} | {r['ok']}/{r['n']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['max']:.2f} | "
            f"{r['kernels']} | {r['rss']:.0f} | {r['pss']:.0f} | {r['uss']:.0f} | {r['left']} | "
            f"{r['server_cpu']:.3f} | {r['kernel_cpu']:.3f} | {r['client_cpu']:.3f} |"
        )
    print()
    print("targets (issue 11 §3), ours:")
    for r in rows:
        if r["server"] != OURS:
            continue
        checks = [f"kernels left {r['left']} (target 0): {'met' if r['left'] == 0 else 'MISSED'}"]
        if r["n"] >= TARGET_P95_LEARNERS:
            checks.insert(0, f"p95 {r['p95']:.2f} s (target ≤ {TARGET_P95} s): {'met' if r['p95'] <= TARGET_P95 else 'MISSED'}")
        if r["n"] >= 10:
            met = r["pss"] <= TARGET_MB_PER_LEARNER
            checks.append(f"PSS {r['pss']:.0f} MB/learner (target ≤ {TARGET_MB_PER_LEARNER}): {'met' if met else 'MISSED'}")
        if r["ok"] < r["n"]:
            checks.append(f"{r['n'] - r['ok']} page(s) not live: MISSED")
        print(f"  N={r['n']}: " + "; ".join(checks))
    print()
    by = {(r["server"], r["n"]): r for r in rows}
    for n in sizes:
        s, o = by.get((STOCK, n)), by.get((OURS, n))
        if s and o and o["p95"] == o["p95"] and o["p95"] > 0:
            print(
                f"N={n}: p95 stock/ours = {s['p95'] / o['p95']:.1f}x; PSS stock/ours = {s['pss'] / o['pss']:.1f}x; "
                f"kernels left stock {s['left']} vs ours {o['left']}"
            )


if __name__ == "__main__":
    main()
