"""Learner kernels forked from a warm template process, for `wechat-training serve`.

A fresh ipykernel spends about 1.5 s of CPU importing IPython, ipykernel,
ipywidgets, pydantic and this package, then loading the catalogue; with 50
learners arriving at once on 2 cores that alone is 40 s of queueing (issue 3,
"Serving under load"). Instead, one template process (the zygote) imports all
of it and loads the catalogue once, then forks a kernel per request: the fork
takes milliseconds, and the imported code and catalogue are shared
copy-on-write between all learner kernels, so each costs only the pages it
writes.

Pieces:

* `main()` (``python -m wechat_training.learning.forked_kernels SOCKET``): the template. It
  serves one JSON request per connection on a Unix socket: ``{"argv",
  "env", "cwd"}`` -> forks; the child becomes session leader, takes the
  kernel's environment and working directory and runs IPKernelApp with the
  connection file Jupyter wrote; the parent answers ``{"pid": N}``. It exits
  when the server that started it goes away.
* `ForkProvisioner`: a jupyter_client provisioner that asks the zygote instead
  of spawning ``python -m ipykernel_launcher``; Jupyter still writes the
  connection file, talks ZMQ, interrupts, restarts and kills as usual (by
  process group). If the zygote is unavailable it falls back to a normal start.
* `Zygote`: starts/stops the template from the server process.

POSIX only (fork).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SOCKET_VARIABLE = "WECHAT_TRAINING_ZYGOTE_SOCKET"
PROVISIONER_NAME = "wechat-training-fork"
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.comm",
    "IPython.core.completer",
    # IPKernelApp.init_kernel imports the debugger module (which then finds no debugpy: see
    # `preload`), and identity.wait_for_visit speaks Voila's query protocol with websockets:
    # imported here, the two took a page's kernel CPU from 0.27 to 0.20 s (benchmarks/page.py,
    # when debugpy was still imported).
    "ipykernel.debugger",
    "websockets.sync.client",
    "encodings.idna",
    "ipywidgets",
    "wechat_training.learning.widgets.page",
    "wechat_training.learning.widgets.module_view",
    "wechat_training.learning.widgets.portal_view",
)


# --- the template process -------------------------------------------------


def preload() -> None:
    import importlib

    # No learner kernel runs a debugger: Voila relays no debug_request from the page. Without
    # debugpy (ImportError, which ipykernel expects) the template holds 121 fewer modules that
    # every kernel would walk at start (IPythonKernel lists the files of all of them).
    sys.modules.setdefault("debugpy", None)
    for name in PRELOAD:
        importlib.import_module(name)
    make_shell()
    kernel_app_class()
    warm_up()
    root = os.environ.get("WECHAT_TRAINING_ROOT")
    if root:
        from .widgets.page import cached_catalog

        try:
            cached_catalog(Path(root))
        except Exception:  # noqa: BLE001, S110 - each page reports a broken catalogue to its learner
            pass


def make_shell() -> None:
    """Make here, once, the IPython shell every learner kernel would make for itself.

    IPythonKernel asks for the shell with `ZMQInteractiveShell.instance()`, which
    returns one that exists: a forked kernel takes this one (its magics, prompts,
    formatters and compiled regular expressions) instead of building its own,
    and only binds it to its kernel (`_run_kernel`). Its settings are the
    kernel's: no input history. Making it starts no thread, so forking stays safe.
    """
    from ipykernel.compiler import XCachingCompiler
    from ipykernel.zmqshell import ZMQInteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    ZMQInteractiveShell.instance(config=config, compiler_class=XCachingCompiler)


def warm_up() -> None:
    """Do here, once, what every learner kernel would do first.

    Whatever a forked kernel does for the first time it pays for in copied pages:
    lazy imports, caches filled, the interpreter specialising the code it runs.
    The first tornado IOLoop and asyncio loop a forked process made cost it
    1,000 page faults; with one made here first, 240. Nothing started here may outlive this
    function: a thread would not survive the fork.
    """
    import faulthandler

    from tornado.ioloop import IOLoop

    IOLoop(make_current=False).close(all_fds=True)
    # `kill -USR1 <kernel pid>` writes its Python stacks to the server log: registered
    # here, every kernel inherits the handler instead of installing its own.
    faulthandler.register(signal.SIGUSR1, all_threads=True)


@functools.cache
def kernel_app_class() -> type:
    """IPKernelApp that reads the command line a forked kernel is given without argparse.

    traitlets builds an argparse parser of every alias, flag and trait of ~40
    classes to read the kernel's command line: a third of the pages a forked
    kernel copied before it ran any code. The command lines Jupyter and this
    module write (`-f FILE` and `--Class.trait=value`) are read directly into the
    config traitlets would make of them: the app's own traits typed, those of
    classes it does not list deferred to each trait's `from_string`. Any other
    command line goes to traitlets.
    """
    from ipykernel.ipkernel import IPythonKernel
    from ipykernel.kernelapp import IPKernelApp
    from traitlets import Type
    from traitlets.config.loader import Config, DeferredConfigString

    class ForkedKernel(IPythonKernel):
        def __init__(self, **kwargs):
            # IPythonKernel lists the file of every imported module for its debugger, which
            # a learner kernel has not (see `preload`): reading ~1,000 module objects copied
            # 880 pages into every kernel. Shown no modules while it is made, it lists none.
            import ipykernel.ipkernel

            ipykernel.ipkernel.sys = _SysWithoutModules()  # type: ignore[assignment]
            try:
                super().__init__(**kwargs)
            finally:
                ipykernel.ipkernel.sys = sys

    class ForkedKernelApp(IPKernelApp):
        kernel_class = Type(ForkedKernel, klass=IPythonKernel, config=True)

        def parse_command_line(self, argv=None):
            argv = list(sys.argv[1:] if argv is None else argv)
            config = self._plain_config(argv)
            if config is None:
                return super().parse_command_line(argv)
            self.argv = argv
            self.cli_config = config
            self.update_config(config)
            self.extra_args = []
            return None

        def _plain_config(self, argv: list[str]):
            settings = command_line_settings(argv)
            if settings is None:
                return None
            own = {cls.__name__ for cls in type(self).mro()}
            config = Config()
            for section, trait, value in settings:
                if section in own:
                    traits = self.class_traits(config=True)
                    if trait not in traits:
                        return None
                    config[section][trait] = traits[trait].from_string(value)
                elif section in _listed_class_names(type(self)):
                    return None  # traitlets types these by rules of its own
                else:
                    config[section][trait] = DeferredConfigString(value)
            return config

    return ForkedKernelApp


@functools.cache
def _listed_class_names(app_class: type) -> frozenset[str]:
    return frozenset(cls.__name__ for listed in app_class.classes for cls in listed.mro())


def command_line_settings(argv: list[str]) -> list[tuple[str, str, str]] | None:
    """(class, trait, value) of a command line of only `-f FILE` and `--Class.trait=value`,
    each trait once; None for any other command line."""
    settings = []
    args = iter(argv)
    for arg in args:
        if arg == "-f":
            value = next(args, None)
            if value is None:
                return None
            settings.append(("IPKernelApp", "connection_file", value))
        elif arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            section, _, trait = key.partition(".")
            if not (section.isidentifier() and trait.isidentifier()):
                return None
            settings.append((section, trait, value))
        else:
            return None
    if len({(section, trait) for section, trait, _ in settings}) < len(settings):
        return None  # a repeated trait may append (a List): traitlets knows
    return settings


class _SysWithoutModules:
    """The sys module, as seen by code that must not walk every imported module."""

    modules: dict = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(sys, name)


def _take_environment(env: dict[str, str]) -> None:
    """Make os.environ equal to `env`, touching only what differs (the template's is mostly the
    kernel's: clearing and refilling it rewrote every variable's pages)."""
    for key in [key for key in os.environ if key not in env]:
        del os.environ[key]
    for key, value in env.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


def _run_kernel(request: dict[str, Any]) -> None:
    """In the forked child: become the kernel described by `request`; never returns."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _take_environment(request["env"])
        os.chdir(request.get("cwd") or "/")
        import random

        random.seed()  # the template's random state must not be shared by every learner
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        argv = list(request["argv"][1:])
        # ipykernel reads JPY_PARENT_PID when its module is imported, i.e. in the
        # template: say explicitly that the template is the parent to watch.
        argv.append(f"--IPKernelApp.parent_handle={os.getppid()}")
        # A learner page never needs input history: no SQLite file, no writer thread.
        argv.append("--HistoryManager.enabled=False")
        sys.argv = [request["argv"][0], *argv]
        app = kernel_app_class().instance()
        app.initialize(argv)
        app.kernel.shell.kernel = app.kernel  # the shell was made in the template, kernel-less
        # ipywidgets registers its comm targets when imported inside a kernel;
        # the template imported it outside one, so register them now that the
        # kernel exists (without this the page's widgets never come alive).
        import ipywidgets

        ipywidgets.register_comm_target()
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - report and leave the child, never the template
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    path = args[0]
    parent = os.getppid()
    preload()
    import gc

    # Keep the collector away from the template's objects, so it does not
    # write to (and un-share) their pages in every child.
    gc.freeze()
    # Children are reaped by the kernel itself: the server tracks them by pid.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C on `serve` stops the server, which stops us
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    listener.settimeout(1.0)
    print(f"zygote ready {os.getpid()}", flush=True)
    # Nobody reads the pipe after this line: kernels' stray fd-1 output goes to stderr, never blocks.
    os.dup2(2, 1)
    while True:
        if os.getppid() != parent:
            break  # the server is gone
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        with conn:
            conn.settimeout(10)
            try:
                request = json.loads(_read_line(conn))
            except (OSError, ValueError):
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                _run_kernel(request)
            conn.sendall((json.dumps({"pid": pid}) + "\n").encode())
    listener.close()
    os.unlink(path)


def _read_line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode()


# --- the server side ------------------------------------------------------


class Zygote:
    """The template process, started and stopped by the server."""

    def __init__(self, socket_path: Path):
        self.socket_path = Path(socket_path)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wechat_training.learning.forked_kernels", str(self.socket_path)],
            stdout=subprocess.PIPE,
            env=os.environ.copy(),
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline().decode()
        if not line.startswith("zygote ready") or time.monotonic() > deadline:
            raise RuntimeError(f"kernel template did not start (exit code {self.process.poll()})")
        os.environ[SOCKET_VARIABLE] = str(self.socket_path)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class ForkedProcess:
    """The Popen surface jupyter_client uses, for a kernel that is not our child.

    The template reaps its children (SIGCHLD ignored), so a dead kernel simply
    disappears; its exit code is not known and reported as 0.
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        # Jupyter polls every kernel every few seconds, and nbclient polls the kernels it
        # runs: a signal 0 costs a system call, /proc a file to open, read and parse.
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:  # the pid was reused by a process that is not ours
                self.returncode = 0
        return self.returncode

    def _exited(self) -> bool:
        """Gone, or a zombie nobody reaps (the template died and init does not reap)."""
        if self.poll() is not None:
            return True
        try:
            with open(f"/proc/{self.pid}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            state = "X"
        if state in ("Z", "X"):
            self.returncode = 0
        return self.returncode is not None

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._exited():
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.05)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def provisioner_class():
    """LocalProvisioner that forks the kernel from the template when it can."""
    import asyncio

    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd: list[str], **kwargs: Any):
            path = os.environ.get(SOCKET_VARIABLE)
            is_ipykernel = len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"]
            if not path or not is_ipykernel:
                return await super().launch_kernel(cmd, **kwargs)
            env = kwargs.get("env") or dict(os.environ)
            request = {"argv": [cmd[0], *cmd[3:]], "env": dict(env), "cwd": str(kwargs.get("cwd") or os.getcwd())}
            try:
                reader, writer = await asyncio.open_unix_connection(path)
                writer.write((json.dumps(request) + "\n").encode())
                await writer.drain()
                reply = json.loads(await asyncio.wait_for(reader.readline(), 30))
                writer.close()
            except (OSError, ValueError, TimeoutError) as exc:
                self.log.warning("kernel template unavailable (%s): starting a kernel the slow way", exc)
                return await super().launch_kernel(cmd, **kwargs)
            self.process = ForkedProcess(int(reply["pid"]))
            self.pid = self.process.pid
            self.pgid = self.process.pid  # the child called setsid()
            self.cwd = request["cwd"]
            return self.connection_info

    return ForkProvisioner


class _EntryPoint:
    """What KernelProvisionerFactory expects in its registry: something with .name and .load()."""

    def __init__(self, cls: type):
        self.name = PROVISIONER_NAME
        self._cls = cls

    def load(self) -> type:
        return self._cls


def register_provisioner() -> str:
    """Make the fork provisioner known to jupyter_client without an installed entry point."""
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    KernelProvisionerFactory.provisioners[PROVISIONER_NAME] = _EntryPoint(provisioner_class())  # type: ignore[assignment]
    return PROVISIONER_NAME


if __name__ == "__main__":
    main()
