"""It runs where it is installed: a built wheel, a fresh environment, an empty folder.

The wheel is built from a copy of the project, installed into a new virtual environment
without its dependencies (those come from the environment running the tests, added after the
install as a plain path so the editable checkout is not seen), and the commands run from an
empty temporary folder with no ``ADVISOR_*`` variables: the defaults must come from the
``config/`` copy shipped inside the package, and the instance folder must be the current
directory's ``instance/``, never site-packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.settings import CONFIG_DIR, home_dir, load_settings

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "advisor", "config")
TIMEOUT_SECONDS = 600


def _run(args, cwd, env=None):
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=TIMEOUT_SECONDS, check=False,
    )
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _outer_site_packages() -> list[str]:
    """The test environment's site-packages folders (not the checkout itself)."""
    return [
        p for p in sys.path
        if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()
    ]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, advisor script, clean environment, empty folder) of a fresh install."""
    base = tmp_path_factory.mktemp("install")
    source = base / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", "instance")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=ignore)
        else:
            shutil.copy2(origin, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", base / "dist", source],
         cwd=base)
    (wheel,) = (base / "dist").glob("advisor-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=base)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel],
         cwd=base)
    # Dependencies from the outer environment, added only now so pip never touches it.
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                   cwd=base).strip()
    (Path(purelib) / "outer-dependencies.pth").write_text(
        "\n".join(_outer_site_packages()) + "\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ADVISOR_") and k not in {"PYTHONPATH", "PYTHONHOME"}}
    empty = base / "empty"
    empty.mkdir()
    return python, venv / "bin" / "advisor", env, empty, Path(purelib)


@pytest.mark.slow
def test_the_installed_package_is_the_wheel(installed):
    python, _, env, empty, purelib = installed
    where = _run([python, "-c", "import advisor; print(advisor.__file__)"], cwd=empty, env=env)
    assert Path(where.strip()).is_relative_to(purelib)
    assert (purelib / "advisor" / "config" / "settings.toml").is_file()


@pytest.mark.slow
def test_route_runs_from_an_empty_folder(installed):
    _, advisor, env, empty, purelib = installed
    text = _run([advisor, "route", "Київ", "Львів", "--lang", "en"], cwd=empty, env=env)
    assert "recommended" in text
    document = json.loads(_run([advisor, "route", "Київ", "Львів", "--json"], cwd=empty, env=env))
    kinds = {k for o in document["options"] for k in (o["kind"], *o.get("also_kinds", ()))}
    assert "recommended" in kinds
    # The flag store went to ./instance, not into the installed package.
    assert (empty / "instance").is_dir()
    assert not (purelib / "instance").exists() and not (purelib.parent / "instance").exists()


@pytest.mark.slow
def test_app_factory_loads_its_settings_from_an_empty_folder(installed):
    python, _, env, empty, purelib = installed
    probe = (
        "from advisor import create_app; app = create_app(); "
        "s = app.extensions['advisor.settings']; "
        "print(app.instance_path); print(s.speed_model_path); print(s.baseline_flags_path)"
    )
    instance, speed_model, baseline = _run([python, "-c", probe], cwd=empty, env=env).split()
    assert Path(instance) == empty / "instance"
    assert Path(speed_model).is_relative_to(purelib / "advisor" / "config")
    assert Path(baseline).is_relative_to(purelib / "advisor" / "config")


def test_a_checkout_reads_its_own_config_folder():
    assert CONFIG_DIR == ROOT / "config"
    assert home_dir() == ROOT
    settings = load_settings(environ={})
    assert settings.speed_model_path == ROOT / "config" / "speed_model.toml"
    assert settings.instance_path == ROOT / "instance"


def test_relative_paths_in_variables_are_taken_from_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"ADVISOR_INSTANCE_PATH": "here"})
    assert settings.instance_path == tmp_path / "here"


def test_relative_paths_in_an_override_file_are_taken_from_its_folder(tmp_path):
    override = tmp_path / "conf" / "override.toml"
    override.parent.mkdir()
    override.write_text('[network]\nsources = "raw"\n', encoding="utf-8")
    settings = load_settings(environ={"ADVISOR_CONFIG": str(override)})
    assert settings.network_sources == tmp_path / "conf" / "raw"
