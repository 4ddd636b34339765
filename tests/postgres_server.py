"""A real PostgreSQL 15 server for tests that need one (test_postgres, test_hub).

`pg_server` starts Debian's PostgreSQL 15 (initdb + pg_ctl as the `postgres`
user, which the server requires) on a loopback port, and stops it afterwards.
Where that is impossible the tests are skipped, saying why (strict mode turns
the skip into a failure).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _run(args: list[str]) -> subprocess.CompletedProcess:
    # Failures are turned into skips with the server's own message, not raised.
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_server():
    pytest.importorskip("psycopg2", reason="psycopg2-binary is the PostgreSQL driver these tests use")
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (apt-get install postgresql)")
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser is missing: PostgreSQL refuses to run as root")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data = Path(tempfile.mkdtemp(prefix="wt-pg-"))
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    init = _run(
        [
            *as_postgres,
            str(PG_BIN / "initdb"),
            "-D",
            str(data / "db"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        ]
    )
    if init.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[-500:]}")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    start = _run(
        [
            *as_postgres,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data / "db"),
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-w",
            "start",
        ]
    )
    if start.returncode != 0:
        log = (data / "log").read_text(errors="replace")[-500:] if (data / "log").exists() else start.stderr
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {log}")
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}"
    finally:
        _run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop"])
        shutil.rmtree(data, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """A fresh, empty database on the server; returns its SQLAlchemy URL."""
    import psycopg2

    admin = psycopg2.connect(server_url.replace("postgresql+psycopg2", "postgresql") + "/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return f"{server_url}/{name}"
