"""Certificates: a one-page PDF with the Chinese font embedded, read back with poppler, and a
verification code that accepts the genuine certificate and refuses an edited one."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from reminder_book import AS_OF, CAMPAIGN, REPO

from wechat_training.assessment import gradebook
from wechat_training.cli import main
from wechat_training.content.catalog import load_catalog
from wechat_training.records.certificates import KEY_VARIABLE

KEY = {KEY_VARIABLE: "test-key-0123456789abcdef"}
#: Where the rendered page is kept for a person to look at (pytest's tmp, never the tree).
ARTEFACT = "certificate-page.png"


def _cli(course: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["certificate", *args], env=KEY if env is None else env)


def _records_args(course: Path) -> list[str]:
    return ["--root", str(REPO), "--course-dir", str(course), "--campaign", str(CAMPAIGN), "--as-of", AS_OF.isoformat()]


def _code(output: str) -> str:
    return output.rsplit("code ", 1)[1].strip()


def test_certificate_pdf_shows_name_module_and_code_in_an_embedded_cjk_font(reminder_course, tmp_path):
    """Does the PDF hold one page whose text (pdftotext) has the Chinese name, id, module titles, score,
    dates, content version and code, in an embedded font subset, and render to a PNG (pdftoppm)?"""
    course, url = reminder_course
    out = tmp_path / "zhou-min.pdf"
    result = _cli(course, "M001", "account_security", "--out", str(out), *_records_args(course))
    assert result.exit_code == 0, result.output
    code = _code(result.stdout)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    title = load_catalog(REPO).modules["account_security"].title
    version = load_catalog(REPO).content_version("account_security")
    for expected in ("合规培训证书", "周敏", "M001", title.zh, title.en, code, "2026-12-01", "2027-12-01", version):
        assert expected in text, (expected, text)
    assert re.search(r"Score: (\d+) / \1", text)  # all answers right
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    font_line = next(line for line in fonts.splitlines() if "WenQuanYi" in line)
    assert font_line.split()[-5:-3] == ["yes", "yes"]  # embedded, subset
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(out), str(tmp_path / "certificate-page")],
                   check=True)  # fmt: skip
    png = tmp_path / ARTEFACT
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_verify_accepts_the_genuine_code_and_refuses_an_edited_field(reminder_course, tmp_path):
    """Is the issued code genuine and valid, still genuine but no longer valid after valid-until,
    unknown when mistyped, and refused once someone raised the stored score?"""
    course, url = reminder_course
    issued = _cli(course, "E106", "account_security", "--out", str(tmp_path / "c.pdf"), *_records_args(course))
    assert issued.exit_code == 0, issued.output
    code = _code(issued.stdout)
    where = ["--course-dir", str(course)]
    ok = _cli(course, "verify", code, *where, "--on", "2027-01-20")
    assert ok.exit_code == 0
    assert ok.stdout.startswith("genuine, still valid on 2027-01-20: Lin, Mei (E106) passed")
    assert "valid until 2027-01-25" in ok.stdout
    late = _cli(course, "verify", code.lower().replace("-", ""), *where, "--on", "2027-02-01")
    assert late.exit_code == 1 and "genuine, no longer valid (ended 2027-01-25)" in late.stdout
    wrong = ("A" if code[0] != "A" else "B") + code[1:]
    unknown = _cli(course, "verify", wrong, *where)
    assert unknown.exit_code == 1 and unknown.stdout.startswith("unknown code")
    engine = gradebook.engine_for(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE wt_certificate SET valid_until = '2030-01-25'"))
    edited = _cli(course, "verify", code, *where, "--on", "2027-01-20")
    assert edited.exit_code == 1 and edited.stdout.startswith("NOT genuine")


def test_reissuing_gives_the_same_code_and_another_key_refuses_it(reminder_course, tmp_path):
    """Does issuing the same pass twice give one code, and does verifying with a different key fail?"""
    course, url = reminder_course
    first = _cli(course, "M001", "publishing", "--out", str(tmp_path / "a.pdf"), *_records_args(course))
    second = _cli(course, "M001", "publishing", "--out", str(tmp_path / "b.pdf"), *_records_args(course))
    assert _code(first.stdout) == _code(second.stdout)
    with gradebook.engine_for(url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM wt_certificate")).scalar() == 1
    other = _cli(course, "verify", _code(first.stdout), "--course-dir", str(course),
                 env={KEY_VARIABLE: "another-key-0123456789"})  # fmt: skip
    assert other.exit_code == 1 and other.stdout.startswith("NOT genuine")


def test_bulk_writes_one_pdf_per_pass_in_the_period(reminder_course, tmp_path):
    """Does `certificate bulk` write a PDF for each pass between --from and --to, and none outside?"""
    course, url = reminder_course
    out = tmp_path / "certs"
    result = _cli(course, "bulk", "--from", "2026-12-01", "--to", "2026-12-10", "--out-dir", str(out),
                  *_records_args(course))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.pdf")) == [
        "E102_account_security.pdf",
        "E106_publishing.pdf",
        "M001_account_security.pdf",
        "M001_publishing.pdf",
    ]
    assert "wrote 4 certificate(s)" in result.stdout


def test_no_key_no_pass_unknown_employee_are_clear_errors(reminder_course, tmp_path):
    """Without the key, for someone who has not passed, or for an unknown id: a message saying so, no file?"""
    course, url = reminder_course
    out = tmp_path / "x.pdf"
    no_key = _cli(course, "M001", "account_security", "--out", str(out), *_records_args(course), env={KEY_VARIABLE: ""})
    assert no_key.exit_code == 1 and f"{KEY_VARIABLE} is not set" in no_key.output
    failed = _cli(course, "E102", "publishing", "--out", str(out), *_records_args(course))
    assert failed.exit_code == 1 and "E102 司马建国 has not passed publishing (status overdue)" in failed.output
    nobody = _cli(course, "E999", "publishing", "--out", str(out), *_records_args(course))
    assert nobody.exit_code == 1 and "no records for employee 'E999'" in nobody.output
    assert not out.exists()
