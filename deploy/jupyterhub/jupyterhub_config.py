# JupyterHub configuration of the WeChat-rules training kit (issue 13).
#
# `wechat-training hub` runs `jupyterhub -f` on this file and passes its settings
# as WECHAT_TRAINING_* environment variables (read below), so one file serves the
# demo, the tests and a company install. Shape (reasons and figures in
# deploy/README.md):
#
#   /hub/login            the hub's login (the authenticator below)
#   /services/portal/     the learner portal: ONE Voila service shared by every
#                         employee, logged in through the hub's OAuth; identity =
#                         the hub user, profile = the roster in the gradebook
#   /services/hr/         the HR dashboard (and its exports): group `hr` only
#   /user/NAME/lab        JupyterLab on the content: group `trainers` only
#   service `grader`      runs `wechat-training grade` every few minutes
#
# Employees hold one scope, access:services!service=portal: no server of their
# own, so no Lab, terminal, file browser or kernel they can type into.
#
# ---------------------------------------------------------------- single sign-on
# Swapping the login needs no code change, only this file (or an extra
# `-f` config loaded after it, see deploy/README.md):
#
#   WeCom / DingTalk-style OAuth2 (pip install oauthenticator):
#     c.JupyterHub.authenticator_class = "generic-oauth"
#     c.GenericOAuthenticator.client_id = "..."; c.GenericOAuthenticator.client_secret = "..."
#     c.GenericOAuthenticator.authorize_url = "https://sso.example.com/oauth2/authorize"
#     c.GenericOAuthenticator.token_url = "https://sso.example.com/oauth2/token"
#     c.GenericOAuthenticator.userdata_url = "https://sso.example.com/oauth2/userinfo"
#     c.GenericOAuthenticator.username_claim = "employee_id"   # the roster's id
#     c.GenericOAuthenticator.oauth_callback_url = "https://training.example.com/hub/oauth_callback"
#     c.GenericOAuthenticator.allow_all = True   # the roster decides who trains
#     c.GenericOAuthenticator.manage_groups = True; c.GenericOAuthenticator.auth_state_groups_key = "groups"
#
#   LDAP / Active Directory (pip install jupyterhub-ldapauthenticator):
#     c.JupyterHub.authenticator_class = "ldapauthenticator.LDAPAuthenticator"
#     c.LDAPAuthenticator.server_address = "ldap.example.com"
#     c.LDAPAuthenticator.bind_dn_template = ["uid={username},ou=people,dc=example,dc=com"]
#     c.LDAPAuthenticator.allow_all = True
#
# Whatever the login, the user name must be the roster's employee id (case is
# ignored: the portal matches it case-insensitively).

import os
import sys

from jupyterhub.utils import url_path_join

c = get_config()  # noqa: F821 (JupyterHub defines it when loading this file)
env = os.environ.get
python = sys.executable
kit = [python, "-m", "wechat_training"]
root = env("WECHAT_TRAINING_ROOT", "")
course_dir = env("WECHAT_TRAINING_COURSE_DIR", "")
state_dir = env("WECHAT_TRAINING_HUB_DIR", os.getcwd())
portal_port = int(env("WECHAT_TRAINING_HUB_PORTAL_PORT", "8871"))
hr_port = int(env("WECHAT_TRAINING_HUB_HR_PORT", "8872"))
grade_every = env("WECHAT_TRAINING_GRADE_EVERY", "300")
pool_size = env("WECHAT_TRAINING_HUB_POOL_SIZE", "1")


def names(variable):
    return [n for n in env(variable, "").split(",") if n]


# ---------------------------------------------------------------- where it listens
c.JupyterHub.bind_url = f"http://127.0.0.1:{env('WECHAT_TRAINING_HUB_PORT', '8000')}/"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("WECHAT_TRAINING_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('WECHAT_TRAINING_HUB_PROXY_API_PORT', '8001')}"
c.JupyterHub.db_url = "sqlite:///" + os.path.join(state_dir, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(state_dir, "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = os.path.join(state_dir, "jupyterhub-proxy.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# ---------------------------------------------------------------- login (local default)
# DEMO ONLY: one shared password for every user name. Anyone who knows it can
# log in as anyone. A company sets its SSO above instead.
# (NativeAuthenticator, JupyterHub's own password store, is the next step up;
# 1.3.0 crashes on login with JupyterHub 6.1: see deploy/README.md.)
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = env("WECHAT_TRAINING_HUB_PASSWORD", "")
if env("WECHAT_TRAINING_HUB_ADMIN_PASSWORD"):
    c.SharedPasswordAuthenticator.admin_password = env("WECHAT_TRAINING_HUB_ADMIN_PASSWORD")
# Every logged-in name may enter; the roster decides who has training (others
# see a page saying they are not on it).
c.Authenticator.allow_all = True
c.Authenticator.admin_users = set(names("WECHAT_TRAINING_HUB_ADMINS"))

# ---------------------------------------------------------------- groups and roles
# Groups from `wechat-training hub --hr NAME --trainer NAME`; more can be added
# in the hub's admin page (/hub/admin) or its REST API without a restart.
c.JupyterHub.load_groups = {
    "hr": {"users": names("WECHAT_TRAINING_HUB_HR")},
    "trainers": {"users": names("WECHAT_TRAINING_HUB_TRAINERS")},
}
c.JupyterHub.load_roles = [
    # Every user, employees included: the portal and nothing else (no `self`,
    # hence no server of their own to start).
    {
        "name": "user",
        # access to the portal, plus what the OAuth login to it needs to identify them.
        "scopes": ["access:services!service=portal", "read:users:name!user", "read:users:groups!user"],
    },
    {
        "name": "hr-dashboard",
        "groups": ["hr"],
        "scopes": ["access:services!service=hr", "access:services!service=portal"],
    },
    {
        # Trainers start their own JupyterLab (below) on the content tree.
        "name": "trainer",
        "groups": ["trainers"],
        "scopes": ["self", "access:services!service=portal"],
    },
    # The grading service needs no hub API at all.
]


def landing_page(handler):
    """Where a user lands after login: trainers their Lab, HR the dashboard, everyone else the portal."""
    user = handler.current_user
    groups = {g.name for g in user.groups} if user is not None else set()
    if "trainers" in groups:
        return url_path_join(handler.hub.base_url, "spawn")
    if "hr" in groups:
        return "/services/hr/"
    return "/services/portal/"


c.JupyterHub.default_url = landing_page

# ---------------------------------------------------------------- trainers' JupyterLab
c.JupyterHub.spawner_class = "simple"  # one local process as the hub's user (no system accounts)
c.Spawner.cmd = ["jupyterhub-singleuser"]
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = root or os.getcwd()
c.Spawner.environment = {"WECHAT_TRAINING_ROOT": root, "WECHAT_TRAINING_COURSE_DIR": course_dir}

# ---------------------------------------------------------------- services
service_env = {
    # Same settings `wechat-training serve` runs with (content, course dir,
    # gradebook, campaign, store signing key ...): every WECHAT_TRAINING_* of
    # the hub's environment, minus the hub's own.
    **{k: v for k, v in os.environ.items() if k.startswith("WECHAT_TRAINING_") and "_HUB_" not in k},
    "PYTHONPATH": env("PYTHONPATH", ""),
    "PATH": env("PATH", ""),
    "HOME": env("HOME", state_dir),
    "JUPYTER_RUNTIME_DIR": os.path.join(state_dir, "runtime"),
}
c.JupyterHub.services = [
    {
        "name": "portal",
        "url": f"http://127.0.0.1:{portal_port}",
        "command": [*kit, "hub-service", "portal", "--pool-size", pool_size, *(["--root", root] if root else [])],
        "environment": service_env,
        "oauth_no_confirm": True,
        "display": False,
    },
    {
        "name": "hr",
        "url": f"http://127.0.0.1:{hr_port}",
        "command": [*kit, "hub-service", "dashboard", *(["--root", root] if root else [])],
        "environment": service_env,
        "oauth_no_confirm": True,
        "display": False,
    },
    {
        "name": "grader",
        "command": [*kit, "hub-service", "grader", "--every", grade_every, *(["--root", root] if root else [])],
        "environment": service_env,
    },
]
