"""The learner page script (frontend/): built, pinned to the installed ipywidgets, required by `serve`."""

import json
from pathlib import Path

from click.testing import CliRunner
from jupyter_core.paths import jupyter_path

from wechat_training.cli import main
from wechat_training.learning import server

REPO = Path(__file__).resolve().parents[1]
VALID = Path(__file__).parent / "data" / "valid"


def test_the_script_bundles_the_widget_packages_of_the_installed_ipywidgets():
    """A page speaks the widget protocol of the Python ipywidgets; JupyterLab's widget
    manager of the same release names the JavaScript packages that speak it."""
    manifest = Path("@jupyter-widgets", "jupyterlab-manager", "package.json")
    lab_manager = next(Path(p) / manifest for p in jupyter_path("labextensions") if (Path(p) / manifest).is_file())
    installed = json.loads(lab_manager.read_text())["dependencies"]
    ours = json.loads((REPO / "frontend" / "package.json").read_text())["dependencies"]
    for package in ("@jupyter-widgets/base", "@jupyter-widgets/base-manager", "@jupyter-widgets/controls"):
        assert installed[package].lstrip("^~") == ours[package], package


def test_the_script_is_built_where_the_page_template_serves_it():
    assert server.PAGE_SCRIPT.is_file(), "run scripts/setup.sh"
    assert server.PAGE_SCRIPT.stat().st_size > 100_000
    assert server.PAGE_SCRIPT.with_suffix(".css").is_file()


def test_serve_without_the_script_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(server, "PAGE_SCRIPT", tmp_path / "learner-page.js")
    result = CliRunner().invoke(main, ["serve", "--root", str(VALID), "--course-dir", str(tmp_path / "course")])
    assert result.exit_code == 1
    assert "learner page script" in result.output and "scripts/setup.sh" in result.output
    assert not (tmp_path / "course").exists()
