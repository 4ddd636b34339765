"""Identity comes from the server side only: hub user, trusted header, or the configured local id."""

from types import SimpleNamespace

import pytest
from tornado.web import HTTPError

from wechat_training.learning.identity import (
    IdentityError,
    header_prelaunch_hook,
    header_variable,
    resolve,
    wait_for_visit,
)


def test_jupyterhub_user_wins_over_local_id():
    """Under JupyterHub, is the hub's user taken even when a local id is also configured?"""
    who = resolve({"JUPYTERHUB_USER": "E100001", "WECHAT_TRAINING_EMPLOYEE": "E999999"})
    assert (who.employee_id, who.source) == ("E100001", "jupyterhub")


def test_local_single_user_id():
    who = resolve({"WECHAT_TRAINING_EMPLOYEE": "E100002", "WECHAT_TRAINING_EMPLOYEE_NAME": "张伟"})
    assert (who.employee_id, who.source, who.display_name) == ("E100002", "local", "张伟")


def test_trusted_header_passed_by_voila():
    """Does a configured proxy header, passed by Voila as HTTP_X_REMOTE_USER, name the learner?"""
    env = {
        "WECHAT_TRAINING_TRUSTED_HEADER": "X-Remote-User",
        header_variable("X-Remote-User"): "E100003",
        "WECHAT_TRAINING_EMPLOYEE": "E999999",
    }
    who = resolve(env)
    assert (who.employee_id, who.source) == ("E100003", "header")


def test_missing_trusted_header_is_refused_not_replaced_by_local_id():
    with pytest.raises(IdentityError, match="X-Remote-User"):
        resolve({"WECHAT_TRAINING_TRUSTED_HEADER": "X-Remote-User", "WECHAT_TRAINING_EMPLOYEE": "E999999"})


@pytest.mark.parametrize("bad", ["../etc/passwd", "a b", "x" * 80, "<script>"])
def test_invalid_ids_are_refused_with_the_source_named(bad):
    with pytest.raises(IdentityError, match="JUPYTERHUB_USER"):
        resolve({"JUPYTERHUB_USER": bad})


def test_no_identity_explains_how_to_configure_one():
    with pytest.raises(IdentityError, match="--employee"):
        resolve({})


def test_prelaunch_hook_refuses_requests_without_the_header():
    hook = header_prelaunch_hook("X-Remote-User")
    with pytest.raises(HTTPError) as refused:
        hook(SimpleNamespace(request=SimpleNamespace(headers={})), None, "/")
    assert refused.value.status_code == 403
    hook(SimpleNamespace(request=SimpleNamespace(headers={"X-Remote-User": "E100001"})), None, "/")


def test_wait_for_visit_returns_at_once_outside_preheated_kernels(monkeypatch):
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    wait_for_visit()


def test_header_identity_takes_its_name_from_the_roster_directory(tmp_path):
    """With the directory `roster import` writes, is a header or hub id shown by its roster name
    (and an id not on the roster by the id alone)?"""
    from wechat_training.learning import directory

    directory.write(tmp_path, {"E100003": {"name": "林美", "department": "销售部", "role": "客户经理"}})
    env = {
        "WECHAT_TRAINING_TRUSTED_HEADER": "X-Remote-User",
        header_variable("X-Remote-User"): "E100003",
        "WECHAT_TRAINING_COURSE_DIR": str(tmp_path),
    }
    assert resolve(env).display_name == "林美"
    assert resolve({**env, header_variable("X-Remote-User"): "E100004"}).display_name == "E100004"
    assert resolve({"JUPYTERHUB_USER": "E100003", "WECHAT_TRAINING_COURSE_DIR": str(tmp_path)}).name == "林美"
