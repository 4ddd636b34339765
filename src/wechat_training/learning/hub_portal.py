"""The learner portal as ONE service of a JupyterHub, shared by every employee (issue 13).

Why one shared service and not one server per employee: see deploy/README.md
(measured with benchmarks/hub.py). This module makes a Voila app safe to share:

* Login is the hub's: Voila uses JupyterHub's identity provider and
  authorizer (`jupyterhub.singleuser.extension`), so every page, kernel and
  websocket request needs a hub login holding `access:services!service=NAME`;
  the hub grants that scope per group. Standalone Voila registers the OAuth
  callback and logout handlers without its base URL: `prefixed_handlers` adds it.
* Identity is the hub user of the request, never anything the browser sends.
  `VisitHandler` resolves it (and the roster profile) before Voila renders,
  and hands it to the kernel of that visit only: preheated kernels receive it
  with Voila's request info (`/voila/query/<kernel>`), fresh kernels in their
  environment. Forged `X-Remote-User`-style headers and query parameters are
  never read: the portal under the hub configures no trusted header.
* A hub user missing from the roster gets a page saying so and no kernel, so
  nothing can be submitted for them.
* `/voila/query/<kernel>` (request info for a preheated kernel) is only for
  the kernel itself, which connects straight to the service port: a request
  that came through the hub's proxy (it carries X-Forwarded-For) is refused,
  so nobody can read another visit's identity there or steal it from the kernel.
* The hub's API token for this service is taken out of the environment before
  any kernel starts (`take_hub_token`): kernels inherit the server's environment.
  So is the store's master key (`server.make_app`); each visit's kernel gets
  only its employee's signing key (`submissions.provenance`).

Library code: the CLI passes the roster lookup in (`ProfileLookup`), so this
layer never reads the gradebook itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlparse

from ..submissions import provenance
from .identity import HUB_VARIABLE, ROSTER_NAME_VARIABLE
from .status import PROFILE_VARIABLES

TOKEN_VARIABLE = "JUPYTERHUB_API_TOKEN"
PREFIX_VARIABLE = "JUPYTERHUB_SERVICE_PREFIX"
URL_VARIABLE = "JUPYTERHUB_SERVICE_URL"
MANAGER_VARIABLE = "WECHAT_TRAINING_MANAGER"
IDENTITY_PROVIDER = "jupyterhub.singleuser.extension.JupyterHubIdentityProvider"
AUTHORIZER = "jupyterhub.singleuser.extension.JupyterHubAuthorizer"
#: Handlers standalone Voila registers without its base URL (identity provider ones).
UNPREFIXED = ("/logout", "/oauth_callback")


class HubServiceError(RuntimeError):
    """Not started as a JupyterHub service: the message names the missing variable."""


@dataclass(frozen=True)
class Profile:
    """One roster row, as the portal needs it."""

    employee_id: str
    name: str = ""
    department: str = ""
    role: str = ""
    manager: str = ""
    hire_date: str = ""


#: Hub user name -> roster profile, or None when the roster does not hold them.
ProfileLookup = Callable[[str], "Profile | None"]

#: Environment of the visit being rendered (set per request, read when Voila
#: hands request info or an environment to the kernel of that visit).
_visit: ContextVar[dict[str, str] | None] = ContextVar("wechat_training_visit", default=None)


def visit_environment(profile: Profile) -> dict[str, str]:
    """Variables a kernel reads for one visit (`identity.resolve`, `status` profile)."""
    env = {
        HUB_VARIABLE: profile.employee_id,
        ROSTER_NAME_VARIABLE: profile.name,
        MANAGER_VARIABLE: profile.manager,
        PROFILE_VARIABLES["department"]: profile.department,
        PROFILE_VARIABLES["role"]: profile.role,
        PROFILE_VARIABLES["hire_date"]: profile.hire_date,
    }
    return env


@dataclass(frozen=True)
class HubService:
    """Where the hub runs this service (from the variables JupyterHub sets)."""

    prefix: str
    port: int
    api_token: str


def take_hub_token(environ: dict[str, str] | None = None) -> HubService:
    """Read the service's settings and REMOVE its API token from the environment.

    Kernels inherit the server's environment; with the token a kernel could
    call the hub's API as this service.
    """
    env = os.environ if environ is None else environ
    missing = [v for v in (PREFIX_VARIABLE, URL_VARIABLE, TOKEN_VARIABLE) if not env.get(v)]
    if missing:
        raise HubServiceError(
            f"not started by JupyterHub as a service: {', '.join(missing)} unset "
            "(run `wechat-training hub`, which starts this service)"
        )
    url = urlparse(env[URL_VARIABLE])
    token = env.pop(TOKEN_VARIABLE)
    # Identity is per visit here: an inherited user would be everyone's fallback.
    env.pop(HUB_VARIABLE, None)
    # HubOAuth reads the token from the environment; `hub_config` hands it over explicitly.
    return HubService(prefix=env[PREFIX_VARIABLE], port=url.port or 80, api_token=token)


def hub_config(c: Any, service: HubService) -> None:
    """Hub login for a Voila `Config` (base URL, identity provider, authorizer)."""
    c.Voila.base_url = service.prefix
    c.Voila.port = service.port
    c.Voila.identity_provider_class = IDENTITY_PROVIDER
    c.Voila.authorizer_class = AUTHORIZER
    c.HubOAuth.api_token = service.api_token
    # No trusted header under the hub: a header the browser sends is never identity.
    c.VoilaConfiguration.http_header_envs = []


def prefixed_handlers(handlers: list[tuple], server_url: str) -> list[tuple]:
    """Put the identity provider's handlers under the service's base URL."""
    from jupyter_server.utils import url_path_join

    return [(url_path_join(server_url, h[0]), *h[1:]) if h[0] in UNPREFIXED else h for h in handlers]


def not_in_roster_page(user: str) -> str:
    who = escape(user)
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<title>不在培训名单中 · Not on the training roster</title></head><body>"
        "<main class='wt-not-in-roster' style='font-family:system-ui,sans-serif;max-width:40em;margin:3em auto'>"
        f"<h1>您（{who}）不在培训名单中</h1>"
        "<p>系统中没有您的员工记录，因此无法参加或提交培训。请联系人力资源部将您加入名单。</p>"
        f"<h2 lang='en'>You ({who}) are not on the training roster</h2>"
        "<p lang='en'>There is no employee record for your login, so you cannot take or submit "
        "the training. Ask HR to add you to the roster.</p></main></body></html>"
    )


def visit_handler_class(base: type, lookup: ProfileLookup, signing_master: bytes) -> type:
    """A Voila page handler that resolves the hub user and their roster profile first.

    The visit's kernel also gets that employee's signing key, derived here from
    the master key the server holds (`submissions.provenance`): a shared
    kernel pool cannot be keyed per employee in advance, and no kernel ever
    holds the master key.
    """

    class VisitHandler(base):  # type: ignore[misc, valid-type]
        async def prepare(self):
            _visit.set(None)
            await super().prepare()
            if self._finished:
                return
            user = self.current_user
            if user is None:
                # @web.authenticated on get() redirects to the hub's login.
                return
            profile = lookup(user.username)
            if profile is None:
                self.set_status(403)
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.finish(not_in_roster_page(user.username))
                return
            _visit.set(
                {
                    **visit_environment(profile),
                    **provenance.signing_environment(signing_master, profile.employee_id),
                }
            )

    return VisitHandler


def request_info_handler_class(base: type) -> type:
    """Voila's request-info websocket, for the kernel's own direct connection only."""
    from tornado.web import HTTPError

    class KernelOnlyRequestInfo(base):  # type: ignore[misc, valid-type]
        def prepare(self):
            # The hub's proxy adds X-Forwarded-For; the kernel connects to the port directly.
            if self.request.headers.get("X-Forwarded-For") or self.request.remote_ip not in ("127.0.0.1", "::1"):
                raise HTTPError(403, "request info is for the kernel only")
            return super().prepare()

    return KernelOnlyRequestInfo


def install_visit_hooks() -> None:
    """Make Voila hand the visit's environment to the kernel rendering it.

    Voila builds the request info inside its handler and sends it with
    `RequestInfoSocketHandler.send_updates` (preheated kernel) or starts a
    kernel with it (pool empty); both happen in the request's task, where
    `VisitHandler.prepare` set the visit.
    """
    import voila.handler
    from voila.request_info_handler import RequestInfoSocketHandler

    if getattr(voila.handler.RequestInfoSocketHandler, "adds_visit", False):
        return

    class VisitRequestInfo(RequestInfoSocketHandler):
        adds_visit = True

        @classmethod
        def send_updates(cls, msg: dict) -> None:
            visit = _visit.get()
            payload = {**msg["payload"], **visit} if visit else msg["payload"]
            RequestInfoSocketHandler.send_updates({**msg, "payload": payload})

    voila.handler.RequestInfoSocketHandler = VisitRequestInfo


def with_visit(env: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """The environment of a kernel Voila starts for a request (pool empty), with the visit added.

    Only that kernel (VOILA_PREHEAT=False): a pool refill started from the
    request's task would otherwise carry this visitor into the next one's kernel.
    """
    visit = _visit.get()
    if env is None or not visit or env.get("VOILA_PREHEAT") != "False":
        return env
    return {**env, **visit}


def notebook_app(notebook: Any, service: HubService):
    """A Voila app showing one notebook (the HR dashboard) to hub users with access to this service.

    No preheated kernels: few users, and the page reads the gradebook when opened.
    """
    from traitlets.config import Config
    from voila.app import Voila

    c = Config()
    c.Voila.ip = "127.0.0.1"
    c.Voila.open_browser = False
    c.Voila.port_retries = 0
    c.VoilaConfiguration.show_tracebacks = False
    hub_config(c, service)

    class HubNotebookVoila(Voila):
        def init_handlers(self):
            return prefixed_handlers(super().init_handlers(), self.server_url)

    app = HubNotebookVoila(config=c)
    app.initialize([str(notebook)])
    return app
