"""`serve`: the learner portal (and its certificate downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from . import main
from .options import (
    course_dir_or_default,
    load_or_exit,
    pool_size_option,
    resolve_root,
    root_option,
    refresh_directory,
)


@main.command()
@root_option
@click.option("--port", type=int, default=8866, show_default=True, help="Port on 127.0.0.1.")
@click.option(
    "--course-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Course directory holding the submission store (default: grading/ of the kit).",
)
@click.option(
    "--employee",
    default=None,
    help="Local single-user mode: the employee id every page is for (default: a fictional demo employee).",
)
@click.option("--employee-name", default=None, help="Name shown for --employee.")
@click.option(
    "--trusted-header",
    default=None,
    metavar="HEADER",
    help="Behind an authenticating proxy: take the employee id from this request header (e.g. X-Remote-User).",
)
@pool_size_option
@click.option(
    "--idle-timeout",
    type=int,
    default=30,
    show_default=True,
    help="Seconds after which the kernel of a closed tab is shut down.",
)
@click.option(
    "--fork-kernels/--spawn-kernels",
    default=True,
    show_default=True,
    help="Fork learner kernels from a warm template process (fast, shared memory) or spawn each one fresh.",
)
def serve(
    root: Path | None,
    port: int,
    course_dir: Path | None,
    employee: str | None,
    employee_name: str | None,
    trusted_header: str | None,
    pool_size: int,
    idle_timeout: int,
    fork_kernels: bool,
) -> None:
    """Start the learner portal (Voila on 127.0.0.1) with preheated kernels."""
    from ..learning.server import DEMO_EMPLOYEE, DEMO_EMPLOYEE_NAME, ServeOptions
    from ..learning.server import serve as run
    from ..submissions.store import check_employee_id

    page_script_or_exit()
    catalog = load_or_exit(root)
    if employee is not None:
        try:
            check_employee_id(employee)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--employee") from exc
    demo = employee is None and trusted_header is None
    options = ServeOptions(
        root=resolve_root(root).resolve(),
        course_dir=course_dir_or_default(course_dir, root),
        port=port,
        employee=DEMO_EMPLOYEE if demo else employee,
        employee_name=DEMO_EMPLOYEE_NAME if demo else (employee_name or ""),
        trusted_header=trusted_header,
        pool_size=pool_size,
        portal_pool_size=pool_size,
        idle_timeout=idle_timeout,
        # Check often enough that a closed tab's kernel is gone within idle_timeout + 10 s.
        cull_interval=max(1, min(10, idle_timeout // 3)),
        fork_kernels=fork_kernels,
    )
    if not demo:
        # Names by id for the portal behind a proxy (the header carries only the id).
        refresh_directory(options.course_dir)
    who = f"header {trusted_header}" if trusted_header else f"employee {options.employee}"
    click.echo(f"Portal for {who}: http://127.0.0.1:{port}/  (Ctrl+C to stop)")
    if os.environ.get("WECHAT_TRAINING_CERT_KEY"):
        _serve_certificates(options)
    run(options, sorted(catalog.modules))


def page_script_or_exit() -> None:
    from ..learning.server import PageScriptMissing, require_page_script

    try:
        require_page_script()
    except PageScriptMissing as exc:
        raise click.ClickException(str(exc)) from exc


def _serve_certificates(options) -> None:
    """Let `serve` offer each employee a download of their own certificate (issue 12).

    Wired here because it needs the records (a pass is what the gradebook says) and the
    learner layer may not import them. Identity as for the pages: the --employee of a
    single-user portal, the trusted header behind a proxy, or JUPYTERHUB_USER.
    """
    import asyncio

    from tornado.web import HTTPError, RequestHandler

    from ..learning.identity import HUB_VARIABLE
    from ..learning.widgets.portal_view import CERTIFICATE_LINK_VARIABLE

    def pdf_for(employee_id: str, module_id: str) -> tuple[bytes, str]:
        from ..assessment import gradebook
        from ..records import certificate_document
        from ..records.book import open_record_book
        from ..records.certificates import CertificateRegister, certificate_for, key_from_environment

        book = open_record_book(options.course_dir, options.root)
        titles = {m.id: (m.title.zh, m.title.en) for m in book.catalog.modules.values()}
        cert = certificate_for(book.records, titles, employee_id, module_id)
        code = CertificateRegister(gradebook.resolve_url(options.course_dir), key_from_environment()).issue(cert)
        return certificate_document.render(cert, code), f"{employee_id}_{module_id}.pdf"

    class CertificateDownload(RequestHandler):
        async def get(self, module_id: str) -> None:
            from ..records.certificates import CertificateError

            if options.trusted_header:
                employee_id = self.request.headers.get(options.trusted_header, "")
            else:
                employee_id = os.environ.get(HUB_VARIABLE) or options.employee or ""
            if not employee_id:
                raise HTTPError(403, "no employee identity on this request")
            try:
                # Reading the records takes a moment: off the event loop that serves the kernels.
                data, name = await asyncio.to_thread(pdf_for, employee_id, module_id)
            except CertificateError as exc:
                self.set_status(404)
                self.set_header("Content-Type", "text/plain; charset=utf-8")
                self.finish(f"暂无证书：成绩登记后即可下载。No certificate yet (it is issued once graded): {exc}\n")
                return
            self.set_header("Content-Type", "application/pdf")
            self.set_header("Content-Disposition", f'attachment; filename="{name}"')
            self.set_header("Cache-Control", "no-store")
            self.finish(data)

    options.extra_handlers.append((r"certificate/([A-Za-z0-9_]+)\.pdf", CertificateDownload, {}))
    options.extra_env[CERTIFICATE_LINK_VARIABLE] = (
        "../../certificate/{module}.pdf"  # relative to /voila/render/portal.ipynb: works under any base URL
    )
