"""docker-compose.yml and the Dockerfile stay valid for users who have Docker."""

from __future__ import annotations

import shutil
import subprocess
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT


def compose() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_defines_the_database_the_migration_and_the_api() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    assert set(services) == {"db", "migrate", "api"}


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed: `docker compose config` cannot check the file")
    if subprocess.run([docker, "compose", "version"], capture_output=True,
                      check=False).returncode != 0:
        pytest.skip("docker has no compose plugin: `docker compose config` cannot check "
                    "the file")
    subprocess.run([docker, "compose", "config", "--quiet"], cwd=ROOT, check=True)


def test_the_api_waits_for_a_healthy_postgres_16_and_a_finished_migration() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    db, api = services["db"], services["api"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert api["depends_on"] == {"db": {"condition": "service_healthy"},
                                 "migrate": {"condition": "service_completed_successfully"}}
    assert api["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://chronicle_app")
    assert services["migrate"]["command"] == ["chronicle", "db", "upgrade"]
    init = (ROOT / "docker" / "initdb" / "01-app-role.sql").read_text()
    assert "chronicle_app" in init and "IN ROLE chronicle_writer" in init


def test_the_dockerfile_installs_the_package_and_the_demo() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in ("COPY examples ./examples", "pip install --no-cache-dir -c requirements.lock .",
                 "USER chronicle"):
        assert line in dockerfile


def test_the_lock_pins_every_runtime_dependency_within_its_range() -> None:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in map(Requirement, declared):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not pinned in requirements.lock"
        assert requirement.specifier.contains(pins[name]), (name, pins[name])
