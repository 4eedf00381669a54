"""A request id on every log line of a request and in its response; JSON logs in production."""

import json
import subprocess
import sys

import pytest
from django.conf import settings as django_settings


def test_the_request_id_is_echoed_or_made(client, db):
    given = client.get("/healthz", headers={"X-Request-ID": "front-1234abcd"})
    assert given["X-Request-ID"] == "front-1234abcd"
    made = client.get("/healthz")
    assert len(made["X-Request-ID"]) == 32
    # an id that could break a log line or a header is replaced
    odd = client.get("/healthz", headers={"X-Request-ID": "a b\u00e8<script>"})
    assert odd["X-Request-ID"] != "a b\u00e8<script>" and len(odd["X-Request-ID"]) == 32


@pytest.mark.parametrize(
    "peer,forwarded,seen",
    [
        ("10.0.0.5", "203.0.113.7", "203.0.113.7"),  # the proxy's own view of the client
        ("10.0.0.5", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client's own claim ignored
        ("10.0.0.5", "203.0.113.7, 10.0.0.9", "203.0.113.7"),  # two proxies in a row
        ("198.51.100.1", "203.0.113.7", "198.51.100.1"),  # not a proxy: header not believed
        ("10.0.0.5", "nonsense", "10.0.0.5"),
    ],
)
def test_the_client_address_behind_a_trusted_proxy(rf, settings, peer, forwarded, seen):
    from ops.middleware import TrustedProxyMiddleware

    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    TrustedProxyMiddleware(lambda r: r.META["REMOTE_ADDR"])(request)
    assert request.META["REMOTE_ADDR"] == seen


def test_no_proxy_trusted_by_default(rf, settings):
    from ops.middleware import TrustedProxyMiddleware

    settings.TRUSTED_PROXIES = []
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.7")
    TrustedProxyMiddleware(lambda r: None)(request)
    assert request.META["REMOTE_ADDR"] == "10.0.0.5"


SCRIPT = """
import django
django.setup()
from django.test import Client
Client().get("/healthz", headers={"X-Request-ID": "req-abcdef12"})
Client(raise_request_exception=False).get("/", headers={"X-Request-ID": "req-broken12"})
import logging
logging.getLogger("ops").warning("outside any request")
"""


def test_production_logs_are_json_lines_carrying_the_request_id(tmp_path):
    # given the production settings (DEBUG off), on an empty database: the checks fail and log
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "STRIPE_WEBHOOK_SECRET": "whsec_test",
        "ANYMAIL_WEBHOOK_SECRET": "tracking:s3cret",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "PRIVATE_ROOT": str(tmp_path / "private"),
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines, result.stderr
    of_request = [line for line in lines if line["request_id"] == "req-abcdef12"]
    # the failed checks' errors and the request's own line, all with the request's id
    assert {"ops.health", "ops.requests"} <= {line["logger"] for line in of_request}
    failed_checks = [line for line in of_request if line["message"].startswith("health check ")]
    assert failed_checks and {line["level"] for line in failed_checks} == {"WARNING"}
    # a red /healthz is not logged as a server error (it would page on every poll)
    assert not [line for line in lines if "Service Unavailable" in line["message"]]
    # Django's own line about a failed request carries the request's id too
    (server_error,) = [line for line in lines if line["logger"] == "django.request"]
    assert server_error["level"] == "ERROR" and server_error["request_id"] == "req-broken12"
    (outside,) = [line for line in lines if line["message"] == "outside any request"]
    assert outside["request_id"] == "-" and outside["level"] == "WARNING"
