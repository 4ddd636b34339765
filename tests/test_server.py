"""`serve` keeps its promises: kernels forked from the warm template, closed tabs reclaimed."""

import asyncio
import json
import re
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from browser import running_serve

from wechat_training.learning.server import ServeOptions, learner_environment, voila_config

VALID = Path(__file__).parent / "data" / "valid"
pytestmark = pytest.mark.slow


def test_config_preheats_culls_and_never_drops_outputs(tmp_path):
    options = ServeOptions(
        root=VALID, course_dir=tmp_path, pool_size=3, portal_pool_size=1, idle_timeout=20, cull_interval=5
    )
    (tmp_path / "portal.ipynb").write_text("{}")
    (tmp_path / "account_security.ipynb").write_text("{}")
    c = voila_config(options, tmp_path)
    assert c.Voila.ip == "127.0.0.1"
    assert c.VoilaConfiguration.preheat_kernel is True
    assert c.VoilaKernelManager.kernel_pools_config["portal.ipynb"] == {"pool_size": 1}
    assert c.VoilaKernelManager.kernel_pools_config["account_security.ipynb"] == {"pool_size": 3}
    assert (c.MappingKernelManager.cull_idle_timeout, c.MappingKernelManager.cull_interval) == (20, 5)
    assert c.VoilaExecutor.raise_on_iopub_timeout is True
    # No TCP ports to race for in a burst of arrivals (the browser tests run pages over it).
    assert c.KernelManager.transport == "ipc"
    assert c.AsyncKernelManager.client_factory.__name__ == "PageKernelClient"


def test_identity_reaches_kernels_only_from_the_server(tmp_path):
    local = learner_environment(ServeOptions(root=VALID, course_dir=tmp_path, employee="E100001"))
    assert local["WECHAT_TRAINING_EMPLOYEE"] == "E100001"
    proxied = learner_environment(ServeOptions(root=VALID, course_dir=tmp_path, trusted_header="X-Remote-User"))
    assert proxied["WECHAT_TRAINING_TRUSTED_HEADER"] == "X-Remote-User"
    assert "WECHAT_TRAINING_EMPLOYEE" not in proxied  # no silent fallback to a local id


def test_forked_kernel_runs_code_and_dies_when_killed(tmp_path, monkeypatch):
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    from wechat_training.learning.forked_kernels import PROVISIONER_NAME, Zygote, register_provisioner

    monkeypatch.setenv("WECHAT_TRAINING_ROOT", str(VALID))
    template = Zygote(tmp_path / "z.sock")
    template.start()
    register_provisioner()
    factory = KernelProvisionerFactory.instance()
    monkeypatch.setattr(factory, "default_provisioner_name", PROVISIONER_NAME)

    async def scenario():
        km = AsyncKernelManager(kernel_name="python3")
        await km.start_kernel()
        client = km.client()
        client.start_channels()
        await client.wait_for_ready(timeout=30)
        outputs = []
        reply = await client.execute_interactive(
            "import os, sys; k = get_ipython().kernel\n"
            "print(os.getppid(), 'wechat_training.learning.widgets.page' in sys.modules,"
            " sys.modules.get('debugpy', 'absent') is None, len(k._kernel_modules), hasattr(k, 'debugger'))",
            timeout=30,
            output_hook=lambda m: outputs.append(m["content"].get("text", "")),
        )
        client.stop_channels()
        pid = km.provisioner.pid
        await km.shutdown_kernel(now=True)
        return reply["content"]["status"], "".join(outputs), pid, await km.is_alive()

    try:
        status, text, pid, alive = asyncio.run(scenario())
    finally:
        template.stop()
    parent, preloaded, debugpy_blocked, modules_listed, debugger = text.split()
    assert status == "ok"
    assert int(parent) == template.process.pid  # forked from the template, not spawned
    assert preloaded == "True"  # the package was already imported: nothing to import per learner
    # No debugger (Voila relays no debug_request), so no walk over every module at start.
    assert (debugpy_blocked, modules_listed, debugger) == ("True", "0", "False")
    assert not alive and not Path(f"/proc/{pid}").exists()


def kernel_count(server_pid: int) -> int:
    """Kernel processes under the server (spawned or forked via the template)."""
    out = subprocess.run(
        ["ps", "-eo", "pid,ppid,args"], check=True, capture_output=True, text=True
    ).stdout.splitlines()[1:]
    rows = [(int(p), int(pp), cmd) for p, pp, cmd in (line.split(None, 2) for line in out)]
    seen, frontier = set(), {server_pid}
    while frontier:
        frontier = {p for p, pp, _ in rows if pp in frontier} - seen
        seen |= frontier
    return sum(1 for p, pp, cmd in rows if p in seen and ("ipykernel" in cmd or ("zygote" in cmd and pp != server_pid)))


def test_closed_tab_kernel_is_reclaimed_within_a_minute(tmp_path):
    """Stock Voila keeps a closed tab's kernel forever; does ours shut it down?"""
    args = ["--root", str(VALID), "--course-dir", str(tmp_path / "c"), "--employee", "E100001"]
    with running_serve(tmp_path, *args, "--pool-size", "1", "--idle-timeout", "10") as (proc, url):
        port = url.rsplit(":", 1)[1]
        deadline = time.monotonic() + 90
        # Wait for the two pools (portal + module) to fill.
        while kernel_count(proc.pid) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        idle = kernel_count(proc.pid)
        html = urllib.request.urlopen(url + "/voila/render/account_security.ipynb", timeout=60).read().decode()
        kernel_id = re.search(r'"kernelId": "([0-9a-f-]{36})"', html).group(1)
        assert re.search(r'"model_id": "[0-9a-f]{32}"', html), "page served without its widget output"

        async def open_and_close_tab():
            from tornado.websocket import websocket_connect

            ws = await websocket_connect(
                f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
            )
            ws.write_message(
                json.dumps(
                    {
                        "header": {
                            "msg_id": uuid.uuid4().hex,
                            "msg_type": "kernel_info_request",
                            "session": "t",
                            "username": "t",
                            "version": "5.3",
                            "date": "",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "content": {},
                        "channel": "shell",
                    }
                )
            )
            await ws.read_message()
            ws.close()

        asyncio.run(open_and_close_tab())
        left_at = time.monotonic()
        gone = False
        while time.monotonic() - left_at < 60:
            culled = f"{kernel_id}" in "".join(
                line
                for line in (tmp_path / "serve.log").read_text(errors="replace").splitlines(True)
                if "Culling" in line
            )
            if culled and kernel_count(proc.pid) <= idle:
                gone = True
                break
            time.sleep(1)
        assert gone, f"kernel {kernel_id} still running 60 s after its tab closed"
