"""A fresh install gets what the tests passed with: every package pinned in
requirements.lock is the version installed here, and every dependency the
project declares is pinned."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = pinned.strip()
    return pins


def test_every_locked_package_is_the_installed_version():
    """(The benchmarks' extra is installed only by ./run bench-*, the national location's by ./run test and
    ./run national-*: their packages may be absent, never different.)"""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    optional = {_name(r) for extra in ("bench", "national") for r in extras.get(extra, [])}
    wrong = {}
    for name, pinned in locked().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pinned and not (installed is None and name in optional):
            wrong[name] = (pinned, installed)
    assert wrong == {}


def test_every_declared_dependency_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"], *project["optional-dependencies"]["national"]]
    assert {_name(r) for r in declared} - set(locked()) == set()


def test_the_readme_names_the_duckdb_version_that_writes_the_analysts_file():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"DuckDB {locked()['duckdb']}" in readme
