"""The production recipe holds together: compose.yaml, the Dockerfile, the Caddyfile and the
entrypoint refer to each other correctly (no Docker engine here to build or run them)."""

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "bin" / "trama"


def entrypoint_commands():
    """The subcommands `bin/trama` knows (its `case` labels)."""
    labels = re.findall(r"^  ([a-z|]+)\)$", ENTRYPOINT.read_text(), re.MULTILINE)
    return {name for label in labels for name in label.split("|")}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_the_entrypoint_runs_every_role():
    assert os.access(ENTRYPOINT, os.X_OK)
    assert {"web", "worker", "scheduler", "release", "serve", "migrate"} <= entrypoint_commands()
    text = ENTRYPOINT.read_text()
    # each role runs a command that exists
    assert "config/gunicorn.py" in text and (ROOT / "config" / "gunicorn.py").exists()
    assert "-m ops.supervisor" in text and (ROOT / "ops" / "supervisor.py").exists()
    for command in re.findall(r"manage\.py (run_\w+)", text):
        # run_worker and run_scheduler: ops/ or crm/ management commands
        found = list(ROOT.glob(f"*/management/commands/{command}.py"))
        assert found, f"manage.py {command} does not exist"


def test_an_unknown_role_says_how_to_use_it():
    result = subprocess.run([ENTRYPOINT, "nonsense"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "bin/trama web" in result.stderr


def test_compose_runs_every_part_through_the_entrypoint(compose):
    services = compose["services"]
    assert {"postgres", "redis", "release", "web", "worker", "scheduler", "caddy"} <= set(services)
    roles = entrypoint_commands()
    for name in ("release", "web", "worker", "scheduler"):
        service = services[name]
        assert service["build"] == "." and service["image"] == "trama:latest"
        (role,) = service["command"]
        assert role in roles, f"{name}: bin/trama {role} does not exist"
        env = service["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgres://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert services["web"]["environment"]["WEB_BIND"] == "0.0.0.0:8000"
    # the web and the workers wait for a finished release (migrations) before starting
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"]["release"]["condition"] == (
            "service_completed_successfully"
        )
    # the database needs PostgreSQL 15 or newer (Django 6.1)
    assert int(services["postgres"]["image"].split(":")[1]) >= 15


def test_caddy_serves_the_static_files_the_release_collects(compose):
    services = compose["services"]
    static_root = services["web"]["environment"]["STATIC_ROOT"]
    web_volumes = dict(v.split(":")[:2][::-1] for v in services["web"]["volumes"])
    caddy_volumes = {v.split(":")[0]: v.split(":")[1] for v in services["caddy"]["volumes"]}
    static_volume = web_volumes[static_root]
    assert caddy_volumes[static_volume] == "/srv/static"
    assert set(web_volumes.values()) <= set(compose["volumes"])
    caddyfile_path = caddy_volumes["./deploy/Caddyfile"]
    assert caddyfile_path == "/etc/caddy/Caddyfile"
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "root * {$TRAMA_STATIC:/srv/static}" in caddyfile
    assert "root * {$TRAMA_MEDIA:/srv/media}" in caddyfile
    port = services["web"]["environment"]["WEB_BIND"].rsplit(":", 1)[1]
    assert f"reverse_proxy {{$TRAMA_UPSTREAM:web:{port}}}" in caddyfile
    # TLS: Caddy listens on 443 for the domain it gets from .env
    assert "443:443" in services["caddy"]["ports"] and "{$DOMAIN}" in caddyfile
    # the private files (receipts) are never mounted where Caddy could serve them
    assert "private" not in caddy_volumes


def test_trusted_proxy_network_is_the_compose_network(compose):
    (subnet,) = [c["subnet"] for c in compose["networks"]["default"]["ipam"]["config"]]
    assert compose["services"]["web"]["environment"]["TRUSTED_PROXIES"] == subnet


def test_the_image_is_multi_stage_non_root_with_weasyprint_libraries():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", dockerfile, re.MULTILINE)
    assert stages == ["build", "runtime"]
    assert "uv sync --frozen --no-default-groups" in dockerfile
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"):
        assert package in dockerfile
    runtime = dockerfile.split("AS runtime", 1)[1]
    users = re.findall(r"^USER (\S+)", runtime, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["bin/trama"]' in runtime
    assert re.search(r'^CMD \["web"\]', runtime, re.MULTILINE)
    # nothing of the developer's machine goes into the build context
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "var"} <= set(ignored)


SETTINGS_VARS = re.compile(r'env_(?:str|int|bool|list)\(\s*"([A-Z0-9_]+)"')


def test_every_setting_is_in_env_example_and_it_can_be_sourced(tmp_path):
    example = ROOT / ".env.example"
    settings_text = "".join(p.read_text() for p in (ROOT / "config" / "settings").glob("*.py"))
    names = set(SETTINGS_VARS.findall(settings_text))
    assert {"SECRET_KEY", "DATABASE_URL", "SIGN_IN_CHALLENGE_FAILURES"} <= names
    listed = set(re.findall(r"^([A-Z0-9_]+)=", example.read_text(), re.MULTILINE))
    assert names - listed == set()
    # `make serve` reads .env with the shell: every line must be valid there
    result = subprocess.run(
        ["bash", "-c", f"set -a; . {example}; env"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "DEFAULT_FROM_EMAIL=Trama <" in result.stdout
