"""The portal offers the employee their own certificate: the real `serve`, fetched over HTTP."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from datetime import date

import pytest
from browser import running_serve
from reminder_book import CAMPAIGN, REPO

from wechat_training.content.catalog import load_catalog
from wechat_training.learning.status import ModuleStatus
from wechat_training.learning.widgets import markup
from wechat_training.records.certificates import KEY_VARIABLE

pytestmark = pytest.mark.slow


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_behind_a_proxy_each_employee_downloads_only_their_own_certificate(reminder_course, tmp_path, monkeypatch):
    """(The server's day is today: M001's pass of 2026-12-01 counts.) Served behind a trusted header, does /certificate/<module>.pdf give the requesting employee's PDF
    (their name inside), a clear 404 for a module they have not passed, and 403 without the header?"""
    course, url = reminder_course
    monkeypatch.setenv(KEY_VARIABLE, "portal-key-0123456789abcdef")
    monkeypatch.setenv("WECHAT_TRAINING_CAMPAIGN", str(CAMPAIGN))
    args = ["--root", str(REPO), "--course-dir", str(course), "--trusted-header", "X-Remote-User", "--pool-size", "1"]
    with running_serve(tmp_path, *args, startup_seconds=120) as (_, base):
        status, body, headers = _get(base + "/certificate/account_security.pdf", {"X-Remote-User": "M001"})
        assert status == 200, body[:300]
        assert headers["Content-Type"] == "application/pdf"
        assert headers["Content-Disposition"] == 'attachment; filename="M001_account_security.pdf"'
        pdf = tmp_path / "mine.pdf"
        pdf.write_bytes(body)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "周敏" in text and "M001" in text
        status, body, _ = _get(base + "/certificate/publishing.pdf", {"X-Remote-User": "E101"})
        assert status == 404 and "E101 欧阳娜娜 has not passed publishing" in body.decode()
        status, _, _ = _get(base + "/certificate/account_security.pdf")
        assert status == 403


def test_portal_table_links_a_certificate_beside_each_pass_only():
    """When serve sets the link, does the portal table offer a download for passed modules and not others?"""
    catalog = load_catalog(REPO)

    def row(module: str, status: str) -> ModuleStatus:
        passed = date(2027, 1, 2) if status == "passed" else None
        return ModuleStatus(module, status, 1, 1.0 if passed else 0.2, 10 if passed else 2, 10, passed, None)

    rows = [row("account_security", "passed"), row("publishing", "failed")]
    html = markup.portal_table(catalog, rows, "zh", date(2027, 1, 20), "../../certificate/{module}.pdf")
    assert html.count('class="wt-certificate"') == 1
    assert 'href="../../certificate/account_security.pdf" download>下载证书 / Download certificate<' in html
    assert "wt-certificate" not in markup.portal_table(catalog, rows, "zh", date(2027, 1, 20))
