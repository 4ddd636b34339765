"""Campaigns: who must take which module by when, and every broken file reported with path:line."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from wechat_training.content.campaign import Campaign, campaign_for, load_campaign
from wechat_training.content.problems import ContentError
from wechat_training.content.schema import AREAS

DATA = Path(__file__).parent / "data" / "campaign"
BROKEN = sorted(p.name for p in DATA.glob("*.yaml") if p.name != "valid.yaml")
REPO = Path(__file__).resolve().parents[1]


def _expected(path: Path) -> str:
    match = re.match(r"# expect: (.*)", path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path} must start with '# expect: file:line: message'"
    return match.group(1)


@pytest.mark.parametrize("name", BROKEN)
def test_broken_campaign_names_file_and_line(name: str, tmp_path: Path) -> None:
    """Does each broken campaign file fail with a problem naming its file, line and fault?"""
    shutil.copy(DATA / name, tmp_path / name)
    with pytest.raises(ContentError) as info:
        load_campaign(tmp_path / name)
    shown = [str(p).replace(str(tmp_path) + "/", "") for p in info.value.problems]
    assert any(s.startswith(_expected(DATA / name)) for s in shown), shown


def test_directory_of_campaign_files_reports_every_problem_at_once(tmp_path: Path) -> None:
    """Are the problems of all files in a campaign directory reported together, relative to it?"""
    for name in ("unknown_key.yaml", "due_before_open.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    with pytest.raises(ContentError) as info:
        load_campaign(tmp_path)
    assert [f"{p.path}:{p.line}" for p in info.value.problems] == ["due_before_open.yaml:3", "unknown_key.yaml:7"]


def test_assignments_follow_department_role_and_everyone() -> None:
    """Does each employee get the modules of the campaigns whose audience includes them, strictest due first?"""
    campaign = load_campaign(DATA / "valid.yaml")
    clerk = {"employee_id": "E1", "department": "Legal", "role": "Clerk"}
    seller = {"employee_id": "E2", "department": "Sales", "role": "Clerk"}
    rm = {"employee_id": "E3", "department": "Legal", "role": "Relationship Manager"}
    assert [a.module_id for a in campaign.assignments_for(clerk)] == ["account_security", "publishing"]
    seller_plan = {a.module_id: a for a in campaign.assignments_for(seller)}
    assert list(seller_plan) == ["account_security", "publishing", "customer_contact"]
    # account_security comes from two campaigns: the earlier due date wins.
    assert seller_plan["account_security"].due_date == date(2026, 2, 28)
    assert seller_plan["account_security"].validity_days == 365
    assert campaign.due_date(rm, "customer_contact") == date(2026, 2, 28)
    assert campaign.due_date(clerk, "customer_contact") is None


def test_optional_module_never_tightens_a_mandatory_one() -> None:
    """Does a recommended module stay optional, and leave a mandatory one's due date alone?"""
    campaign = load_campaign(DATA / "valid.yaml")
    plan = {a.module_id: a for a in campaign.assignments_for({"department": "Finance", "role": "Analyst"})}
    assert plan["group_chats"].mandatory is False
    assert plan["publishing"].mandatory is True
    assert plan["publishing"].due_date == date(2026, 3, 31)


def test_new_hires_are_due_days_after_hire() -> None:
    """Is someone hired after the campaign opened due new_hire_days after their hire date?"""
    campaign = load_campaign(DATA / "valid.yaml")
    newcomer = {"department": "Legal", "role": "Clerk", "hire_date": "2026-03-20"}
    veteran = {"department": "Legal", "role": "Clerk", "hire_date": "2019-07-01"}
    assert campaign.due_date(newcomer, "publishing") == date(2026, 4, 19)
    assert campaign.due_date(veteran, "publishing") == date(2026, 3, 31)


def test_exemptions_hold_until_they_expire() -> None:
    """Is an exemption in force for its modules up to and including its expiry day, and no longer?"""
    campaign = load_campaign(DATA / "valid.yaml")
    assert campaign.is_exempt("E100", "customer_contact", date(2026, 6, 30))
    assert not campaign.is_exempt("E100", "customer_contact", date(2026, 7, 1))
    assert not campaign.is_exempt("E100", "publishing", date(2026, 1, 1))
    assert campaign.is_exempt("E200", "oversight", date(2026, 12, 31))
    assert campaign.exemption("E200", "publishing", date(2026, 5, 1)).approver == "Zhou Min, HR"


def test_campaign_in_force_path_then_environment_then_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is the campaign taken from the path given, else $WECHAT_TRAINING_CAMPAIGN, else campaign.yaml at the root?"""
    monkeypatch.delenv("WECHAT_TRAINING_CAMPAIGN", raising=False)
    shutil.copy(DATA / "valid.yaml", tmp_path / "campaign.yaml")
    assert [e.id for e in campaign_for(tmp_path).entries] == ["all-staff", "sales", "optional"]
    other = tmp_path / "other.yaml"
    other.write_text(
        (DATA / "valid.yaml").read_text(encoding="utf-8").replace("all-staff", "from-env"), encoding="utf-8"
    )
    monkeypatch.setenv("WECHAT_TRAINING_CAMPAIGN", str(other))
    assert campaign_for(tmp_path).entries[0].id == "from-env"
    assert campaign_for(tmp_path, tmp_path / "campaign.yaml").entries[0].id == "all-staff"


def test_without_a_campaign_every_module_is_due_for_everyone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no campaign.yaml, is every module mandatory for everyone with no dates?"""
    monkeypatch.delenv("WECHAT_TRAINING_CAMPAIGN", raising=False)
    campaign = campaign_for(tmp_path)
    assert isinstance(campaign, Campaign) and campaign.is_default
    plan = campaign.assignments_for({"department": "Anything", "role": "Any"})
    assert [a.module_id for a in plan] == list(AREAS)
    assert all(a.mandatory and a.due_date is None and a.validity_days is None for a in plan)


def test_reminder_settings_come_from_the_campaign_file(tmp_path: Path) -> None:
    """Are remind_days, escalate_after_days and portal_url read from the file, with defaults without them,
    and do two files of one directory that disagree fail naming the second one's line?"""
    campaign = load_campaign(DATA / "valid.yaml")
    assert (campaign.remind_days, campaign.escalate_after_days) == (10, 5)
    assert campaign.portal_url == "https://training.corp.example/portal"
    shutil.copy(DATA / "valid.yaml", tmp_path / "a.yaml")
    text = (DATA / "valid.yaml").read_text(encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        text.replace("remind_days: 10", "remind_days: 3")
        .replace("all-staff", "b-staff")
        .replace("id: sales", "id: b-sales")
        .replace("id: optional", "id: b-optional"),
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as info:
        load_campaign(tmp_path)
    assert [str(p) for p in info.value.problems] == ["b.yaml:3: remind_days 3 differs from 10 in a.yaml"]
    plain = tmp_path / "plain.yaml"
    kept = [line for line in text.splitlines() if not line.startswith(("remind", "escalate", "portal"))]
    plain.write_text("\n".join(kept), encoding="utf-8")
    defaults = load_campaign(plain)
    assert (defaults.remind_days, defaults.escalate_after_days, defaults.portal_url) == (14, 7, "http://127.0.0.1:8866/")


def test_shipped_sample_campaign_is_valid() -> None:
    """Does the sample campaign.yaml at the repository top load and cover all six modules?"""
    campaign = load_campaign(REPO / "campaign.yaml")
    assert campaign.module_ids == list(AREAS)
    assert campaign.home_page.startswith("https://")
