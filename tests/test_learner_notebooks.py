"""The learner notebooks: generated deterministically, thin, and they run headless."""

import ast
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from wechat_training.content.location import content_root
from wechat_training.content.schema import AREAS
from wechat_training.learning import notebooks as learner_notebooks

VALID = Path(__file__).parent / "data" / "valid"
SHIPPED = content_root() / "notebooks"
PROBE = (
    "import sys, json; print(json.dumps(sorted(m for m in ('pandas', 'sqlalchemy', 'nbgrader') if m in sys.modules)))"
)


def test_same_input_same_bytes(tmp_path):
    first = learner_notebooks.write(tmp_path / "a", ["publishing", "account_security"])
    second = learner_notebooks.write(tmp_path / "b", ["account_security", "publishing"])
    assert [p.name for p in first] == ["portal.ipynb", "account_security.ipynb", "publishing.ipynb"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert learner_notebooks.is_current(tmp_path / "a", ["account_security", "publishing"])
    assert not learner_notebooks.is_current(tmp_path / "a", ["account_security", "group_chats"])
    (tmp_path / "a" / "portal.ipynb").write_text("{}")
    assert not learner_notebooks.is_current(tmp_path / "a", ["account_security"])


def test_shipped_notebooks_are_the_generated_ones():
    """Is notebooks/ in the repository exactly what the generator writes for the six modules?"""
    assert learner_notebooks.is_current(SHIPPED, AREAS), "regenerate with: wechat-training build"


def test_each_notebook_is_one_import_and_one_call():
    for name, text in learner_notebooks.notebooks(AREAS).items():
        cells = json.loads(text)["cells"]
        assert len(cells) == 1, name
        body = ast.parse("".join(cells[0]["source"])).body
        assert [type(s).__name__ for s in body] == ["ImportFrom", "Expr"], name
        assert isinstance(body[1].value, ast.Call)


def test_unknown_module_is_refused():
    with pytest.raises(ValueError, match="unknown module"):
        learner_notebooks.notebooks(["payroll"])


def run(path: Path, env: dict[str, str], tmp_path: Path) -> nbformat.NotebookNode:
    """Execute a notebook headless in a fresh kernel, plus a probe cell listing heavy modules loaded."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE, id="probe"))
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def widget_views(cell) -> int:
    return sum(1 for o in cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {}))


def test_portal_and_module_run_headless_and_stay_light(tmp_path):
    notebooks = tmp_path / "notebooks"
    learner_notebooks.write(notebooks, ["account_security"])
    env = {
        "WECHAT_TRAINING_ROOT": str(VALID),
        "WECHAT_TRAINING_COURSE_DIR": str(tmp_path / "course"),
        "WECHAT_TRAINING_EMPLOYEE": "E100001",
    }
    for name in ("portal.ipynb", "account_security.ipynb"):
        nb = run(notebooks / name, env, tmp_path)
        page, probe = nb.cells
        assert widget_views(page) == 1, name
        # The call's value is not shown under the page (no stray repr).
        assert not any(o.output_type == "execute_result" for o in page.outputs), name
        assert not any(o.output_type == "error" for o in page.outputs)
        # No pandas, SQL or nbgrader in a learner kernel: it starts fast and stays small.
        assert json.loads(probe.outputs[0]["text"]) == [], name


def test_without_identity_the_page_says_so_instead_of_crashing(tmp_path):
    notebooks = tmp_path / "notebooks"
    learner_notebooks.write(notebooks, ["account_security"])
    env = {
        "WECHAT_TRAINING_ROOT": str(VALID),
        "WECHAT_TRAINING_COURSE_DIR": str(tmp_path / "course"),
        "WECHAT_TRAINING_EMPLOYEE": "",
        "JUPYTERHUB_USER": "",
    }
    nb = run(notebooks / "portal.ipynb", env, tmp_path)
    [state] = [o for o in nb.cells[0].outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    model_id = state["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    html = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"][model_id]["state"]["value"]
    assert "WECHAT_TRAINING_EMPLOYEE" in html and 'role="alert"' in html


def test_every_shipped_notebook_runs_on_the_shipped_content(tmp_path):
    env = {
        "WECHAT_TRAINING_ROOT": str(content_root()),
        "WECHAT_TRAINING_COURSE_DIR": str(tmp_path / "course"),
        "WECHAT_TRAINING_EMPLOYEE": "E100001",
    }
    for name in learner_notebooks.notebooks(AREAS):
        path = SHIPPED / name
        nb = run(path, env, tmp_path)
        assert widget_views(nb.cells[0]) == 1, path.name
        assert 'role=\\"alert\\"' not in json.dumps(nb.metadata.get("widgets", {})), path.name
