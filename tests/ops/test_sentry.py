"""Errors go to Sentry when SENTRY_DSN is set, without personal data; nothing when unset.
A production process in a subprocess sends to a local HTTP endpoint speaking Sentry's
envelope protocol (POST /api/<project>/envelope/)."""

import gzip
import http.server
import subprocess
import sys
import threading
import zlib

import pytest
from django.conf import settings as django_settings

SCRIPT = """
import django
django.setup()
import sentry_sdk
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "secret-session-cookie"
response = client.get("/", headers={"X-Forwarded-For": "203.0.113.99"})
print("status", response.status_code)
sentry_sdk.flush(timeout=10)
"""


class Envelopes:
    def __init__(self):
        self.bodies = []
        envelopes = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                envelopes.bodies.append(body.decode(errors="replace"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def envelopes():
    sink = Envelopes()
    yield sink
    sink.server.shutdown()


def run_production(tmp_path, **env):
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "STRIPE_WEBHOOK_SECRET": "whsec_test",
        "ANYMAIL_WEBHOOK_SECRET": "tracking:s3cret",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        # An empty database: the home page fails with a server error.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "PRIVATE_ROOT": str(tmp_path / "private"),
    }
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=django_settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_server_error_reaches_sentry_without_personal_data(tmp_path, envelopes):
    result = run_production(tmp_path, SENTRY_DSN=f"http://key@127.0.0.1:{envelopes.port}/1")
    assert "status 500" in result.stdout, result.stderr
    sent = "\n".join(envelopes.bodies)
    assert "OperationalError" in sent
    # no cookies, no client address, not even as a stack frame's variable or a query's
    # parameter (the session key is looked up in SQL)
    assert "secret-session-cookie" not in sent
    assert "203.0.113.99" not in sent


def test_nothing_is_sent_without_a_dsn(tmp_path, envelopes):
    result = run_production(tmp_path)
    assert "status 500" in result.stdout, result.stderr
    assert envelopes.bodies == []
