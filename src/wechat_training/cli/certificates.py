"""`certificate`: issue, bulk-issue and verify completion certificates (issue 12)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import main
from .options import (
    course_dir_option,
    course_dir_or_default,
    db_option,
    record_book_or_exit,
    records_options,
    root_option,
)


class _CertificateGroup(click.Group):
    """`certificate EID MODULE` issues one; `certificate bulk|verify ...` are subcommands."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["issue", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_CertificateGroup)
def certificate() -> None:
    """Certificates for passed modules: a one-page PDF with a verification code.

    \b
      wechat-training certificate EID MODULE --out FILE.pdf
      wechat-training certificate bulk --from 2027-01-01 --to 2027-01-31 --out-dir DIR
      wechat-training certificate verify CODE

    The code is an HMAC over the certificate's fields with the secret key in
    $WECHAT_TRAINING_CERT_KEY (the same key must be set to verify); issued
    certificates are kept in the gradebook database (wt_certificate).
    """


def _certificate_register(course_dir, db, root):
    from ..assessment import gradebook
    from ..records.certificates import CertificateError, CertificateRegister, key_from_environment

    try:
        key = key_from_environment()
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    return CertificateRegister(gradebook.resolve_url(course_dir_or_default(course_dir, root), db), key)


def _module_titles(book) -> dict[str, tuple[str, str]]:
    return {m.id: (m.title.zh, m.title.en) for m in book.catalog.modules.values()}


@certificate.command("issue", hidden=True)
@click.argument("employee_id")
@click.argument("module")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF file to write.")
@records_options
def certificate_issue(employee_id, module, out, root, course_dir, db, campaign, as_of) -> None:
    """Write the certificate of EMPLOYEE_ID's latest pass of MODULE."""
    from ..records import certificate_document
    from ..records.certificates import CertificateError, certificate_for, format_code

    register = _certificate_register(course_dir, db, root)
    book = record_book_or_exit(course_dir, db, root, campaign, as_of)
    try:
        cert = certificate_for(book.records, _module_titles(book), employee_id, module)
        code = register.issue(cert)
        certificate_document.write(cert, code, out)
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {out}: {cert.name} {cert.module_id} passed {cert.passed_on}, code {format_code(code)}")


@certificate.command("bulk")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="First pass day.")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="Last pass day.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for PDFs.")
@records_options
def certificate_bulk(start, end, out_dir, root, course_dir, db, campaign, as_of) -> None:
    """One PDF per employee and module passed between --from and --to (inclusive), named EID_MODULE.pdf."""
    from ..records import certificate_document
    from ..records.certificates import CertificateError, passed_between

    register = _certificate_register(course_dir, db, root)
    book = record_book_or_exit(course_dir, db, root, campaign, as_of)
    try:
        certs = passed_between(book.records, _module_titles(book), start.date(), end.date())
        for cert in certs:
            certificate_document.write(cert, register.issue(cert), out_dir / f"{cert.employee_id}_{cert.module_id}.pdf")
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {len(certs)} certificate(s) for passes {start:%Y-%m-%d}..{end:%Y-%m-%d} to {out_dir}")


@certificate.command("verify")
@click.argument("code")
@course_dir_option
@db_option
@root_option
@click.option("--on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Check validity on this day.")
def certificate_verify(code, course_dir, db, root, on) -> None:
    """Say whether CODE belongs to a genuine certificate and whether it is still valid (exit 1 if not)."""
    from ..records import rollup as R

    day = on.date() if on else R.today()
    result = _certificate_register(course_dir, db, root).verify(code, day)
    click.echo(result.describe(day))
    if result.status != "genuine" or not result.still_valid:
        sys.exit(1)
