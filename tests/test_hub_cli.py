"""`wechat-training hub` and its services refuse to start wrongly, and roster lookup by login."""

from __future__ import annotations

from click.testing import CliRunner

from wechat_training.assessment import gradebook
from wechat_training.cli import main


def test_hub_refuses_to_start_without_a_demo_password_or_sso(tmp_path):
    result = CliRunner().invoke(
        main, ["hub", "--course-dir", str(tmp_path / "course")], env={"WECHAT_TRAINING_HUB_PASSWORD": ""}
    )
    assert result.exit_code != 0
    assert "--demo-password" in result.output


def test_the_portal_service_refuses_to_run_outside_the_hub(tmp_path):
    env = {"JUPYTERHUB_API_TOKEN": "", "JUPYTERHUB_SERVICE_PREFIX": "", "JUPYTERHUB_SERVICE_URL": ""}
    result = CliRunner().invoke(main, ["hub-service", "portal", "--course-dir", str(tmp_path)], env=env)
    assert result.exit_code != 0
    assert "not started by JupyterHub as a service" in result.output
    assert "JUPYTERHUB_API_TOKEN" in result.output


def test_a_login_finds_its_roster_row_ignoring_case_and_never_guesses(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert gradebook.employee_by_login(url, "e001001") is None  # no roster yet
    row = {"name": "Li Lei", "department": "Sales", "role": "", "email": "", "manager": "", "hire_date": None}
    gradebook.upsert_employees(
        url, [{**row, "employee_id": "E001001"}, {**row, "employee_id": "ab-1"}, {**row, "employee_id": "AB-1"}]
    )
    found = gradebook.employee_by_login(url, "e001001")
    assert found is not None and found["employee_id"] == "E001001" and found["department"] == "Sales"
    assert gradebook.employee_by_login(url, "E001001 ")["employee_id"] == "E001001"
    assert gradebook.employee_by_login(url, "ab-1") is None  # two roster ids differ only in case
    assert gradebook.employee_by_login(url, "E001002") is None
