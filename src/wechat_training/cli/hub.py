"""`hub` and the services it starts: JupyterHub for many employees (issue 13)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import main
from .grading import grade
from .options import (
    course_dir_option,
    course_dir_or_default,
    db_option,
    load_or_exit,
    pool_size_option,
    resolve_root,
    root_option,
)
from .portal import page_script_or_exit

# src/wechat_training/cli/hub.py -> the repository root, four levels up.
HUB_CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "jupyterhub" / "jupyterhub_config.py"


@main.command()
@root_option
@click.option("--port", type=int, default=8000, show_default=True, help="Port of the hub on 127.0.0.1.")
@course_dir_option
@db_option
@click.option(
    "--hub-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the hub keeps its own state (user database, cookie secret; default: COURSE_DIR/jupyterhub).",
)
@click.option("--hr", "hr_users", multiple=True, metavar="USER", help="Put USER in the `hr` group (repeatable).")
@click.option(
    "--trainer", "trainers", multiple=True, metavar="USER", help="Put USER in the `trainers` group (repeatable)."
)
@click.option("--admin", "admins", multiple=True, metavar="USER", help="Make USER a hub admin (repeatable).")
@click.option(
    "--demo-password",
    envvar="WECHAT_TRAINING_HUB_PASSWORD",
    default=None,
    help="DEMO ONLY: the one password every user name logs in with ($WECHAT_TRAINING_HUB_PASSWORD; "
    "at least 8 characters). A company configures its SSO instead (deploy/README.md).",
)
@click.option("--grade-every", type=int, default=300, show_default=True, help="Seconds between grading runs.")
@pool_size_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JupyterHub config file (default: the kit's deploy/jupyterhub/jupyterhub_config.py).",
)
def hub(
    root: Path | None,
    port: int,
    course_dir: Path | None,
    db: str | None,
    hub_dir: Path | None,
    hr_users: tuple[str, ...],
    trainers: tuple[str, ...],
    admins: tuple[str, ...],
    demo_password: str | None,
    grade_every: int,
    pool_size: int,
    config_file: Path | None,
) -> None:
    """Start JupyterHub on 127.0.0.1 for many employees: login, the portal, the HR dashboard, grading.

    Employees log in and land on their portal (their roster row picks the modules);
    `hr` reaches the dashboard and exports, `trainers` JupyterLab on the content.
    Import the roster first (`wechat-training roster import`, same --course-dir/--db).
    """
    import shutil

    from ..assessment import gradebook

    config = config_file or HUB_CONFIG
    if not config.is_file():
        raise click.ClickException(f"no JupyterHub config at {config}: pass --config FILE")
    for program in ("jupyterhub", "configurable-http-proxy"):
        if shutil.which(program) is None:
            raise click.ClickException(f"{program} is not installed: run `make setup` (scripts/setup.sh)")
    # The kit's config logs in with the demo password; a company config (--config) has its SSO.
    if config_file is None and (not demo_password or len(demo_password) < 8):
        raise click.BadParameter(
            "give the demo login password (8 characters or more), or configure SSO in --config",
            param_hint="--demo-password",
        )
    catalog_root = resolve_root(root).resolve()
    course = course_dir_or_default(course_dir, root)
    state = (hub_dir or course / "jupyterhub").resolve()
    state.mkdir(parents=True, exist_ok=True)
    db_url = gradebook.resolve_url(course, db)
    env = {
        **os.environ,
        "WECHAT_TRAINING_ROOT": str(catalog_root),
        "WECHAT_TRAINING_COURSE_DIR": str(course),
        "WECHAT_TRAINING_DB": db_url,
        "WECHAT_TRAINING_HUB_PORT": str(port),
        "WECHAT_TRAINING_HUB_DIR": str(state),
        "WECHAT_TRAINING_HUB_PASSWORD": demo_password or "",
        "WECHAT_TRAINING_HUB_HR": ",".join(hr_users),
        "WECHAT_TRAINING_HUB_TRAINERS": ",".join(trainers),
        "WECHAT_TRAINING_HUB_ADMINS": ",".join(admins),
        "WECHAT_TRAINING_GRADE_EVERY": str(grade_every),
        "WECHAT_TRAINING_HUB_POOL_SIZE": str(pool_size),
    }
    click.echo(f"JupyterHub on http://127.0.0.1:{port}/  (state in {state}; Ctrl+C to stop)")
    # The hub replaces this process: Ctrl+C and SIGTERM reach it directly, and it
    # stops the proxy and services it started.
    os.chdir(state)
    os.execvpe("jupyterhub", ["jupyterhub", "-f", str(config)], env)


@main.group("hub-service", hidden=True)
def hub_service() -> None:
    """Services the hub starts (see deploy/jupyterhub/jupyterhub_config.py); not for people."""


service_course_dir = click.option(
    "--course-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="WECHAT_TRAINING_COURSE_DIR",
    default=None,
    help="Course directory (default: $WECHAT_TRAINING_COURSE_DIR).",
)


def _hub_service():
    from ..learning.hub_portal import HubServiceError, take_hub_token

    try:
        return take_hub_token()
    except HubServiceError as exc:
        raise click.ClickException(str(exc)) from exc


@hub_service.command("portal")
@root_option
@service_course_dir
@db_option
@pool_size_option
@click.option("--idle-timeout", type=int, default=180, show_default=True, help="Seconds before an idle kernel goes.")
def hub_service_portal(
    root: Path | None, course_dir: Path | None, db: str | None, pool_size: int, idle_timeout: int
) -> None:
    """The learner portal shared by every employee, identity from the hub, profile from the roster."""
    from ..assessment import gradebook
    from ..learning.hub_portal import Profile
    from ..learning.server import ServeOptions
    from ..learning.server import serve as run

    page_script_or_exit()
    service = _hub_service()
    catalog = load_or_exit(root)
    course = course_dir_or_default(course_dir, root)
    db_url = gradebook.resolve_url(course, db)

    def lookup(login: str) -> Profile | None:
        row = gradebook.employee_by_login(db_url, login)
        if row is None:
            return None
        return Profile(
            **{k: str(row.get(k) or "") for k in ("employee_id", "name", "department", "role", "manager")},
            hire_date=str(row.get("hire_date") or ""),
        )

    options = ServeOptions(
        root=resolve_root(root).resolve(),
        course_dir=course,
        port=service.port,
        employee=None,
        pool_size=pool_size,
        portal_pool_size=pool_size,
        # Under a burst of logins a shorter timeout culled kernels before the browser connected.
        idle_timeout=idle_timeout,
        cull_interval=10,
        hub=service,
        profile_lookup=lookup,
    )
    run(options, sorted(catalog.modules))


@hub_service.command("dashboard")
@root_option
def hub_service_dashboard(root: Path | None) -> None:
    """The HR dashboard for hub users holding access to this service (group `hr`)."""
    from ..learning.hub_portal import notebook_app

    service = _hub_service()
    notebook = resolve_root(root) / "notebooks" / "hr_dashboard.ipynb"
    if not notebook.is_file():
        notebook = HUB_CONFIG.parents[2] / "notebooks" / "hr_dashboard.ipynb"
    notebook_app(notebook, service).start()


@hub_service.command("grader")
@root_option
@service_course_dir
@db_option
@click.option("--every", type=int, default=300, show_default=True, help="Seconds between runs.")
@click.pass_context
def hub_service_grader(ctx: click.Context, root: Path | None, course_dir: Path | None, db: str | None, every: int):
    """Run `grade` now and then every EVERY seconds, so records stay current; a failed run is logged, not fatal."""
    import time

    while True:
        try:
            ctx.invoke(grade, root=root, module=None, since=None, course_dir=course_dir, db=db)
        except (click.ClickException, SystemExit) as exc:
            click.echo(f"grading run failed: {exc}", err=True)
        sys.stdout.flush()
        time.sleep(every)
