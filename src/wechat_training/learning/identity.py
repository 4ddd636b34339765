"""Who is taking the training: decided on the server, never typed by the learner.

Three sources, tried in this order (see DESIGN.md, Learner side):

1. ``JUPYTERHUB_USER``: JupyterHub starts one server per user and sets it.
2. A trusted HTTP header set by an authenticating proxy in front of Voila
   (``WECHAT_TRAINING_TRUSTED_HEADER=X-Remote-User`` names it). Voila passes
   configured headers to the kernel as ``HTTP_X_REMOTE_USER``-style variables
   (``VoilaConfiguration.http_header_envs``); with preheated kernels they only
   arrive when the visit does, through Voila's request-info channel, which
   `wait_for_visit` waits for. `header_prelaunch_hook` refuses a page request
   that lacks the header when kernels are not preheated (Voila forbids a
   prelaunch hook together with preheating).
3. ``WECHAT_TRAINING_EMPLOYEE``: the configured local employee of a
   single-user self-assessment (`wechat-training serve --employee ID`).

There is deliberately no form field and no query parameter: an id the learner
could type would let anyone submit for anyone.

The display name is `WECHAT_TRAINING_EMPLOYEE_NAME` when the server sets it
(`serve --employee-name`), else the roster's name from the employee directory
under the course directory (`directory`), else the id.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..content.location import COURSE_DIR_VARIABLE
from ..submissions.store import EMPLOYEE_ID_PATTERN
from . import directory

HUB_VARIABLE = "JUPYTERHUB_USER"
LOCAL_VARIABLE = "WECHAT_TRAINING_EMPLOYEE"
HEADER_NAME_VARIABLE = "WECHAT_TRAINING_TRUSTED_HEADER"
ROSTER_NAME_VARIABLE = "WECHAT_TRAINING_EMPLOYEE_NAME"


class IdentityError(RuntimeError):
    """No usable identity: the message says which setting to fix."""


@dataclass(frozen=True)
class Identity:
    employee_id: str
    #: "jupyterhub", "header" or "local": recorded in every submission.
    source: str
    #: Display name when the server knows one (else the id is shown).
    name: str = ""

    @property
    def display_name(self) -> str:
        return self.name or self.employee_id


def header_variable(header: str) -> str:
    """The environment variable Voila uses for a passed-through header (RFC 3875 style)."""
    return "HTTP_" + header.upper().replace("-", "_")


def resolve(environ: Mapping[str, str] | None = None) -> Identity:
    """The learner of this kernel, from the server-side environment."""
    env = os.environ if environ is None else environ
    who = _who(env)
    name = env.get(ROSTER_NAME_VARIABLE, "")
    if not name and env.get(COURSE_DIR_VARIABLE):
        entry = directory.lookup(env[COURSE_DIR_VARIABLE], who.employee_id)
        name = (entry or {}).get("name", "")
    return Identity(who.employee_id, who.source, name)


def _who(env: Mapping[str, str]) -> Identity:
    hub_user = env.get(HUB_VARIABLE, "")
    if hub_user:
        return Identity(_checked(hub_user, HUB_VARIABLE), "jupyterhub")
    header = env.get(HEADER_NAME_VARIABLE, "")
    if header:
        value = env.get(header_variable(header), "")
        if not value:
            # A configured proxy header that is missing means the request did
            # not come through the proxy: refuse rather than fall back.
            raise IdentityError(
                f"the trusted header {header} was configured ({HEADER_NAME_VARIABLE}) but the request did not carry it"
            )
        return Identity(_checked(value, f"header {header}"), "header")
    local = env.get(LOCAL_VARIABLE, "")
    if local:
        return Identity(_checked(local, LOCAL_VARIABLE), "local")
    raise IdentityError(
        f"no learner identity: run under JupyterHub ({HUB_VARIABLE}), behind a proxy setting "
        f"{HEADER_NAME_VARIABLE}, or set {LOCAL_VARIABLE} (wechat-training serve --employee ID)"
    )


def _checked(value: str, where: str) -> str:
    value = value.strip()
    if not EMPLOYEE_ID_PATTERN.match(value):
        raise IdentityError(f"{where} gives {value!r}, which is not a valid employee id")
    return value


def wait_for_visit(timeout: float | None = None) -> None:
    """In a preheated Voila kernel, block until a learner's request is known.

    A pooled kernel runs the notebook before anyone visits; the per-visit
    environment (trusted header, query string, and the moment of the visit,
    so the portal reads the store as it is now and not as it was when the
    kernel heated) only exists once the request arrives. Outside preheating
    this returns at once.

    This is Voila's `voila.utils.wait_for_request` protocol (one websocket
    message on /voila/query/<kernel id> carrying the request variables),
    spoken directly: importing `voila.utils` would pull jupyter_server and
    jupyterlab_server into every learner kernel (seconds of CPU and tens of
    MB each, the opposite of a light kernel).
    """
    if os.environ.get("VOILA_PREHEAT", "False") != "True":
        return
    import json

    from websockets.sync.client import connect

    port = os.environ.get("VOILA_APP_PORT", "8866")
    ip = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    base = os.environ.get("VOILA_WS_BASE_URL") or os.environ.get("VOILA_SERVER_URL", "/")
    protocol = os.environ.get("VOILA_WS_PROTOCOL", "ws")
    url = f"{protocol}://{ip}:{port}{base}voila/query/{os.environ.get('VOILA_KERNEL_ID', '')}"
    with connect(url, open_timeout=30) as socket:
        payload = socket.recv(timeout=timeout)
    for key, value in json.loads(payload).items():
        os.environ[key] = value


def header_prelaunch_hook(header: str) -> Callable[..., Any]:
    """A Voila prelaunch hook refusing page requests without the trusted header."""

    def hook(req: Any, notebook: Any, cwd: str) -> None:
        value = req.request.headers.get(header, "")
        if not value or not EMPLOYEE_ID_PATTERN.match(value.strip()):
            from tornado.web import HTTPError

            raise HTTPError(403, f"missing or invalid {header} header")

    return hook
