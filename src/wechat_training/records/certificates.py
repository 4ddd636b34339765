"""Training certificates: the fields, the verification code, and the issued-certificates table.

A certificate states who passed which module with what score, on which day,
until when it holds, and on which content version. Its verification code is
an HMAC-SHA256 over exactly those fields with a secret key from
``WECHAT_TRAINING_CERT_KEY``, cut to 80 bits and written as 16 base32
characters (``ABCD-EFGH-JKLM-NPQR``): short enough to type from paper.

A code that short cannot carry the fields, so issuing also writes them to
``wt_certificate`` in the gradebook database, keyed by the code. `verify`
finds the row by the code and recomputes the HMAC over the stored fields: a
code that was never issued is unknown; a row edited afterwards (a better
score, a later valid-until) no longer matches its code and is refused; only
a holder of the key can make a matching pair. Whoever checks a paper
certificate compares its printed fields with what `verify` shows. Changing the
key invalidates every certificate issued under the old one.

Issuing is idempotent: the same pass gives the same fields, the same code, one row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa

from ..assessment import gradebook
from . import rollup as R

KEY_VARIABLE = "WECHAT_TRAINING_CERT_KEY"
MIN_KEY_LENGTH = 16
GENUINE = "genuine"
UNKNOWN = "unknown"
TAMPERED = "tampered"

_metadata = sa.MetaData()

certificate_table = sa.Table(
    "wt_certificate",
    _metadata,
    sa.Column("code", sa.String(16), primary_key=True),  #: 16 base32 characters, without dashes
    sa.Column("employee_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),  #: as on the roster when issued
    sa.Column("module_id", sa.String(40), nullable=False),
    sa.Column("title_zh", sa.Text, nullable=False),
    sa.Column("title_en", sa.Text, nullable=False),
    sa.Column("score", sa.String(16), nullable=False),  #: text, exactly as hashed ('9')
    sa.Column("max_score", sa.String(16), nullable=False),
    sa.Column("passed_on", sa.String(10), nullable=False),  #: ISO date (UTC day of the pass)
    sa.Column("valid_until", sa.String(10), nullable=False),  #: ISO date, '' when the pass never expires
    sa.Column("content_version", sa.String(64), nullable=False),
    sa.Column("issued_at", sa.Text, nullable=False),  #: ISO UTC of the first issue
)


class CertificateError(ValueError):
    """A certificate cannot be issued as asked (no pass, no key, ...)."""


@dataclass(frozen=True)
class Certificate:
    employee_id: str
    name: str
    module_id: str
    title_zh: str
    title_en: str
    score: str
    max_score: str
    passed_on: str
    valid_until: str
    content_version: str

    def code(self, key: bytes) -> str:
        """The 16-character verification code (no dashes)."""
        message = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hmac.new(key, b"wechat-training certificate v1\n" + message.encode("utf-8"), hashlib.sha256)
        return base64.b32encode(digest.digest()[:10]).decode("ascii")


@dataclass(frozen=True)
class Verification:
    status: str  #: genuine | unknown | tampered
    certificate: Certificate | None
    still_valid: bool  #: genuine and valid_until (if any) is not before the day checked

    def describe(self, on: date) -> str:
        if self.status == UNKNOWN:
            return "unknown code: no certificate with this code was issued here"
        if self.status == TAMPERED:
            return "NOT genuine: the stored certificate no longer matches its code (edited after issue)"
        c = self.certificate
        assert c is not None
        until = c.valid_until or "no expiry"
        state = "still valid" if self.still_valid else f"no longer valid (ended {c.valid_until})"
        return (
            f"genuine, {state} on {on}: {c.name} ({c.employee_id}) passed {c.title_en} / {c.title_zh} "
            f"with {c.score}/{c.max_score} on {c.passed_on}, valid until {until}, content {c.content_version}"
        )


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def key_from_environment(environ: Mapping[str, str] | None = None) -> bytes:
    environ = os.environ if environ is None else environ
    key = environ.get(KEY_VARIABLE, "")
    if not key:
        raise CertificateError(
            f"{KEY_VARIABLE} is not set: certificates are signed with a secret key from the environment "
            "(make one with: python3 -c 'import secrets; print(secrets.token_hex(32))', and keep it)"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise CertificateError(f"{KEY_VARIABLE} is too short: use at least {MIN_KEY_LENGTH} characters")
    return key.encode("utf-8")


def certificate_for(records: pd.DataFrame, titles: Mapping[str, tuple[str, str]], employee_id: str, module_id: str):
    """The certificate of an employee's latest pass of a module; CertificateError naming them if none."""
    mine = records[(records[R.EMPLOYEE_ID] == employee_id) & (records[R.MODULE_ID] == module_id)]
    if mine.empty:
        known = employee_id in set(records[R.EMPLOYEE_ID])
        what = f"module {module_id!r} is not in the records" if known else f"no records for employee {employee_id!r}"
        raise CertificateError(what)
    return _certificate(mine.iloc[0], titles)


def passed_between(
    records: pd.DataFrame, titles: Mapping[str, tuple[str, str]], start: date, end: date
) -> list[Certificate]:
    """Certificates for every pass whose day lies in [start, end] (the latest pass per employee and module)."""
    passed = records[records[R.PASSED_AT].notna()]
    days = passed[R.PASSED_AT].dt.date
    chosen = passed[(days >= start) & (days <= end)]
    return [_certificate(row, titles) for _, row in chosen.iterrows()]


def _certificate(row: pd.Series, titles: Mapping[str, tuple[str, str]]) -> Certificate:
    if pd.isna(row[R.PASSED_AT]):
        raise CertificateError(
            f"{row[R.EMPLOYEE_ID]} {row[R.NAME]} has not passed {row[R.MODULE_ID]} (status {row[R.STATUS]})"
        )
    zh, en = titles.get(row[R.MODULE_ID], (row[R.MODULE_ID], row[R.MODULE_ID]))
    return Certificate(
        employee_id=row[R.EMPLOYEE_ID],
        name=row[R.NAME] or row[R.EMPLOYEE_ID],
        module_id=row[R.MODULE_ID],
        title_zh=zh,
        title_en=en,
        score=f"{row[R.BEST_SCORE]:g}",
        max_score=f"{row[R.MAX_SCORE]:g}",
        passed_on=row[R.PASSED_AT].date().isoformat(),
        valid_until=row[R.VALID_UNTIL].isoformat() if row[R.VALID_UNTIL] is not None else "",
        content_version=str(row[R.CONTENT_VERSION] or ""),
    )


class CertificateRegister:
    """Issued certificates in the gradebook database (wt_certificate)."""

    def __init__(self, db_url: str, key: bytes):
        self.engine = gradebook.engine_for(db_url)
        self.key = key
        _metadata.create_all(self.engine)

    def issue(self, certificate: Certificate) -> str:
        """Record the certificate (once) and return its code."""
        code = certificate.code(self.key)
        with self.engine.begin() as conn:
            present = conn.execute(sa.select(certificate_table.c.code).where(certificate_table.c.code == code)).first()
            if present is None:
                conn.execute(
                    certificate_table.insert().values(code=code, issued_at=gradebook.utc_text(), **asdict(certificate))
                )
        return code

    def verify(self, code_text: str, on: date) -> Verification:
        code = normalise_code(code_text)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(certificate_table).where(certificate_table.c.code == code)).first()
        if row is None:
            return Verification(UNKNOWN, None, False)
        fields = {k: row._mapping[k] for k in Certificate.__dataclass_fields__}
        certificate = Certificate(**fields)
        if not hmac.compare_digest(certificate.code(self.key), code):
            return Verification(TAMPERED, certificate, False)
        valid = not certificate.valid_until or date.fromisoformat(certificate.valid_until) >= on
        return Verification(GENUINE, certificate, valid)
