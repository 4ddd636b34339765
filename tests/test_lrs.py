"""The xAPI feed against a real LRS: Ralph's server on loopback, started and stopped here."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ralph_env import RALPH, RALPH_VENV, require_ralph
from records_frames import attempt, attempts, day, employees

from wechat_training.content.campaign import load_campaign
from wechat_training.records import exports
from wechat_training.records import rollup as R

pytestmark = pytest.mark.slow

HOME = "https://corp.example"
USER, PASSWORD = "hr", "not-a-real-secret-42"
HEADERS = {"X-Experience-API-Version": "1.0.3"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Ralph LRS with a file backend and one HR user, on a free loopback port."""
    require_ralph()
    work = tmp_path_factory.mktemp("lrs")
    env = {
        **os.environ,
        "RALPH_APP_DIR": str(work / "app"),
        "RALPH_AUTH_FILE": str(work / "auth.json"),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "PATH": f"{RALPH_VENV / 'bin'}:{os.environ.get('PATH', '')}",
    }
    subprocess.run(
        [str(RALPH), "auth", "-u", USER, "-p", PASSWORD, "-s", "all", "-A", USER, HOME, "-w"],
        env=env,
        cwd=work,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [
            str(RALPH),
            "runserver",
            "-b",
            "fs",
            "--fs-default-directory-path",
            str(work / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/xAPI/statements"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url, auth=(USER, PASSWORD), headers=HEADERS, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Ralph LRS did not start:\n{(work / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def statements(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    campaign = load_campaign(Path(__file__).parent / "data" / "records" / "campaign.yaml")
    people = employees(
        [
            ("E001", "李伟", "Sales", "Clerk"),
            ("E002", "Wang Fang", "Sales", "Clerk"),
            ("E003", "Zhou Xin", "Legal", "Clerk"),
        ]
    )
    frame = attempts(
        [
            attempt("E001", "account_security", "2026-01-10T09:00", 4),
            attempt("E001", "customer_contact", "2026-01-11T10:30", 3),
            attempt("E002", "account_security", "2026-01-12T09:00", 1, red_line_misses=1, passed=False),
        ]
    )
    records = R.build_records(people, frame, campaign, as_of=day("2026-03-01"))
    out = exports.write_xapi(records, tmp_path_factory.mktemp("xapi") / "statements.json", HOME)
    return json.loads(out.read_text(encoding="utf-8"))


def test_lrs_accepts_our_statements_and_gives_them_back(lrs: str, statements: list[dict]) -> None:
    """Does a real LRS accept the exported statements in one POST, and return them per employee with our ids?"""
    posted = httpx.post(lrs, json=statements, auth=(USER, PASSWORD), headers=HEADERS, timeout=30)
    assert posted.status_code == 200, posted.text
    assert sorted(posted.json()) == sorted(s["id"] for s in statements)

    agent = json.dumps({"objectType": "Agent", "account": {"homePage": HOME, "name": "E001"}})
    got = httpx.get(lrs, params={"agent": agent}, auth=(USER, PASSWORD), headers=HEADERS, timeout=30)
    assert got.status_code == 200, got.text
    back = {s["id"]: s for s in got.json()["statements"]}
    mine = {s["id"]: s for s in statements if s["actor"]["account"]["name"] == "E001"}
    assert set(back) == set(mine) and len(mine) == 2
    for sid, sent in mine.items():
        assert back[sid]["verb"]["id"] == sent["verb"]["id"] == exports.VERB_PASSED
        assert back[sid]["result"] == sent["result"]
        assert back[sid]["object"]["id"] == sent["object"]["id"]
        assert back[sid]["context"]["extensions"] == sent["context"]["extensions"]

    # (Ralph's file backend ignores the `verb` filter, so look at E002's statements.)
    agent = json.dumps({"objectType": "Agent", "account": {"homePage": HOME, "name": "E002"}})
    failed = httpx.get(lrs, params={"agent": agent}, auth=(USER, PASSWORD), headers=HEADERS, timeout=30).json()
    assert [s["verb"]["id"] for s in failed["statements"]] == [exports.VERB_FAILED]
    assert failed["statements"][0]["result"]["success"] is False


def test_lrs_refuses_a_bad_password(lrs: str, statements: list[dict]) -> None:
    """Does the LRS refuse statements sent with the wrong credentials (the round trip is really authenticated)?"""
    refused = httpx.post(lrs, json=statements[:1], auth=(USER, "wrong"), headers=HEADERS, timeout=30)
    assert refused.status_code == 401
