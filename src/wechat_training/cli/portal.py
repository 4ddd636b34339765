"""`serve`: the learner portal."""

from __future__ import annotations

from pathlib import Path

import click

from . import main
from .options import (
    course_dir_or_default,
    load_or_exit,
    resolve_root,
    root_option,
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
@click.option("--pool-size", type=int, default=2, show_default=True, help="Preheated kernels kept ready per page.")
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
    who = f"header {trusted_header}" if trusted_header else f"employee {options.employee}"
    click.echo(f"Portal for {who}: http://127.0.0.1:{port}/  (Ctrl+C to stop)")
    run(options, sorted(catalog.modules))
