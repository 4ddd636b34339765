"""Does a plain (non-editable) install of the kit work on a company's own content folder? (issue 8)

The wheel is built from this checkout and installed into a fresh venv; the
content is copied to a folder outside both the package and the repository.
The venv sees the machine's site-packages for the heavy dependencies (they
are the same versions either way) but gets the kit itself only from the wheel,
which the test checks before trusting any result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, running_serve

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    # Built from a copy: a build writes build/ and *.egg-info beside the sources, never into the tree.
    source = base / "source"
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    dist = base / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        cwd=base,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = dist.glob("wechat_training-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr
    content = base / "company-content"
    for name in ("rules", "quizzes"):
        shutil.copytree(REPO / name, content / name)
    shutil.copy(REPO / "campaign.yaml", content / "campaign.yaml")
    return {"base": base, "python": python, "cli": str(venv / "bin" / "wechat-training"), "content": content}


def run(installed, *args, cwd, env=None):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_TRAINING_")}
    environ.pop("PYTHONPATH", None)
    return subprocess.run(
        [installed["cli"], *args], capture_output=True, text=True, cwd=cwd, env={**environ, **(env or {})}
    )


def test_the_venv_runs_the_wheel_not_this_checkout(installed):
    where = subprocess.run(
        [installed["python"], "-c", "import wechat_training; print(wechat_training.__file__)"],
        capture_output=True,
        text=True,
        cwd=installed["base"],
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.startswith(str(installed["base"] / "venv")), where.stdout
    # The stylesheet and the built learner page script are package data: the wheel must carry them.
    for name, least in (("style.css", 100), ("learner-page.js", 100_000), ("learner-page.css", 1_000)):
        size = subprocess.run(
            [
                installed["python"],
                "-c",
                "from importlib import resources; print(len(resources.files('wechat_training.learning')"
                f".joinpath('page_template/voila/templates/wechat/static/{name}').read_bytes()))",
            ],
            capture_output=True,
            text=True,
            cwd=installed["base"],
        )
        assert size.returncode == 0 and int(size.stdout) > least, (name, size.stderr)


def test_check_finds_the_content_in_the_current_directory(installed):
    result = run(installed, "check", cwd=installed["content"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_check_takes_the_content_from_the_environment_or_root(installed):
    elsewhere = installed["base"]
    by_env = run(installed, "check", cwd=elsewhere, env={"WECHAT_TRAINING_ROOT": str(installed["content"])})
    by_option = run(installed, "check", "--root", str(installed["content"]), cwd=elsewhere)
    assert by_env.returncode == 0 and by_option.returncode == 0, by_env.stderr + by_option.stderr
    assert by_env.stdout == by_option.stdout


def test_without_any_content_the_error_says_how_to_give_it(installed, tmp_path):
    result = run(installed, "check", cwd=tmp_path)
    assert result.returncode == 1
    assert "no content found: pass --root DIR, set $WECHAT_TRAINING_ROOT" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_writes_beside_the_content(installed):
    content = installed["content"]
    result = run(installed, "build", "--root", str(content), cwd=installed["base"])
    assert result.returncode == 0, result.stderr
    assert (content / "notebooks" / "portal.ipynb").is_file()
    assert (content / "grading" / "source" / "account_security" / "account_security.ipynb").is_file()
    shipped = (REPO / "notebooks" / "portal.ipynb").read_bytes()
    assert (content / "notebooks" / "portal.ipynb").read_bytes() == shipped


@pytest.mark.browser
def test_serve_shows_the_portal_from_the_installed_kit(installed, monkeypatch):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright python package not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    workdir = installed["base"] / "serve"
    workdir.mkdir()
    args = ["--root", str(installed["content"]), "--course-dir", str(workdir / "course"), "--pool-size", "1"]
    # The borrowed dependencies keep their data files (Voila's templates) under the base
    # interpreter's share/jupyter, which a venv does not search by itself.
    borrowed = [str(Path(sys.prefix) / "share" / "jupyter"), os.environ.get("JUPYTER_PATH", "")]
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, borrowed)))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    with running_serve(workdir, *args, python=installed["python"], startup_seconds=90) as (_, url):
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.set_default_timeout(90_000)
                page.goto(url + "/")
                page.get_by_text("微信合规培训").wait_for()
                page.get_by_text("账号安全").first.wait_for()
            finally:
                browser.close()
