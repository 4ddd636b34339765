"""A throwaway PostgreSQL server for the benchmarks (the tests have their own fixture).

    with Postgres(Path("/var/tmp/some/data")) as pg:
        url = pg.url

The data directory is kept (a cache reuses it); the server stops on exit.
PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import socket
import subprocess
from pathlib import Path


class Postgres:
    """A PostgreSQL server on a free loopback port over the data directory `data`
    (created with initdb when empty)."""

    def __init__(self, data: Path):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            raise RuntimeError("no PostgreSQL under /usr/lib/postgresql (scripts/setup.sh installs it)")
        self.bin, self.data, self.port = bins[-1], data, _free_port()
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> Postgres:
        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(parents=True, exist_ok=True)
            _as_postgres_user(self.data)
            _run_pg([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"], self.data)
        if (self.data / "postmaster.pid").exists():
            # A run that was killed left its server up: stop it, then start ours on our port.
            with contextlib.suppress(Exception):
                _run_pg([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], self.data)
        _run_pg(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                f"-p {self.port} -k /tmp -h 127.0.0.1",
                "-l",
                str(self.data.parent / "pg.log"),
                "-w",
                "start",
            ],
            self.data,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        _run_pg([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], self.data)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(path: Path) -> None:
    # initdb refuses to run as root: the data directory belongs to the postgres user.
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for p in (path.parent, path):
            os.chown(p, user.pw_uid, user.pw_gid)


def _run_pg(cmd: list[str], data: Path) -> None:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True)
