"""The house rules: one settings module driven by the environment."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import database_from_url


def test_database_url_postgres():
    db = database_from_url("postgres://trama:s%40cret@db.example:6543/trama?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "trama",
        "s@cret",
        "db.example",
        "6543",
        "trama",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_database_url_sqlite():
    assert database_from_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"


def test_unknown_database_scheme_fails_loudly():
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://x/y")


def test_production_refuses_to_start_without_secret_key():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env={"PATH": "/usr/bin:/bin", "DEBUG": "0"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    import subprocess
    import sys

    from django.conf import settings

    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 30 + "-production-like-secret-key-for-checks",
        "STRIPE_WEBHOOK_SECRET": "whsec_test",
        "ANYMAIL_WEBHOOK_SECRET": "tracking:s3cret",
        "ALLOWED_HOSTS": "dona.example.org",
        "DATABASE_URL": "sqlite:////tmp/trama-check-deploy.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_security_headers_and_csp(client, db):
    response = client.get("/admin/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
