"""One cache for every process: the card-testing limit on starting a checkout counts once
whichever process serves the attempt, on the database cache (the default) and on Redis
(REDIS_URL). Real processes: gunicorn with two workers, each serving one request and exiting."""

import importlib
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import redis
import requests
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import translation

from campaigns import ratelimit
from campaigns.models import CampaignPage
from crm.models import Donation

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/0"
EMAIL_LIMIT = 3
ATTEMPTS = 6


def _prefix():
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_keys():
    """The local Redis and a key prefix of this test's own, whose keys go at the end."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = _prefix()
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture(params=["database", "redis"])
def shared_cache(request):
    """Which shared cache the processes use, under a key prefix of this test's own."""
    _skip_if_in_memory()
    if request.param == "database":
        return {"kind": "database", "prefix": _prefix(), "env": {}}
    client, prefix = request.getfixturevalue("redis_keys")
    return {"kind": "redis", "prefix": prefix, "env": {"REDIS_URL": REDIS_URL}, "client": client}


def _keys_in(shared_cache):
    """The rate-limit keys each kind of cache holds under the test's prefix."""
    pattern = f"{shared_cache['prefix']}:%throttle:giving:%"
    if shared_cache["kind"] == "redis":
        return [k.decode() for k in shared_cache["client"].scan_iter(pattern.replace("%", "*"))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM trama_cache WHERE cache_key LIKE %s", [pattern])
        return [row[0] for row in cursor.fetchall()]


def _skip_if_in_memory():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("other processes and threads need a test database in a file")


def _database_url():
    db = connection.settings_dict  # the test database, once pytest-django has created it
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Served:
    """A running gunicorn; its access log names the worker PID of every request."""

    def __init__(self, process, url, access_log):
        self.process, self.url, self.access_log = process, url, access_log

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def pids_that_served(self, method):
        self.stop()  # every worker has written its line once the arbiter has stopped
        lines = [line.split() for line in self.access_log.read_text().splitlines()]
        return [pid for pid, logged_method, _status in lines if logged_method == method]


@pytest.fixture
def gunicorn(shared_cache, stripe_standin, transactional_db, tmp_path):
    """The project under gunicorn: two workers, each exits after one request (so every request
    is served by a process that has never seen the others), against the test database
    (transactional: the workers see what the test writes, and the test what they write)."""
    (tmp_path / "served_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        f"GIVING_RATE_LIMITS = {{'ip': (1000, 3600), 'email': ({EMAIL_LIMIT}, 3600)}}\n"
        f"CACHES['default']['KEY_PREFIX'] = {shared_cache['prefix']!r}  # noqa: F405\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{tmp_path}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": "served_settings",
        "DATABASE_URL": _database_url(),
        "STRIPE_API_BASE": stripe_standin,
        "STRIPE_SECRET_KEY": "sk_test_standin",
        **shared_cache["env"],
    }
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
            *("--bind", "127.0.0.1:0", "--workers", "2", "--max-requests", "1", "--preload"),
            *("--access-logfile", access_log, "--access-logformat", "%(p)s %(m)s %(s)s"),
            *("--error-logfile", error_log, "--no-control-socket"),
        ],
        cwd=ROOT,
        env=env,
    )
    served = Served(process, None, access_log)
    try:
        served.url = f"http://127.0.0.1:{_wait_for_port(process, error_log)}"
        yield served
    finally:
        served.stop()


def _wait_for_port(process, error_log):
    for _ in range(600):  # gunicorn prints the port it was given for port 0
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", _read(error_log))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"gunicorn did not start:\n{_read(error_log)}")


def _read(path):
    return path.read_text() if path.exists() else ""


@pytest.mark.django_db(transaction=True)
def test_the_checkout_limit_counts_once_across_processes(demo, shared_cache, gunicorn):
    campaign = CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")
    with translation.override("it"):
        give = gunicorn.url + reverse("campaigns:give", args=[campaign.pk])
    # given a donor's browser holding the campaign page's CSRF cookie
    browser = requests.Session()
    page = browser.get(gunicorn.url + campaign.url, timeout=30)
    assert page.status_code == 200
    # (a page from the page cache carries no token: the browser asks for its own, as the
    # page's script does)
    token_url = re.search(r'data-csrf-url="([^"]+)"', page.text).group(1)
    assert browser.get(gunicorn.url + token_url, timeout=30).status_code == 200
    form = {
        "amount": "other",
        "other_amount": "25",
        "frequency": "once",
        "first_name": "Anna",
        "last_name": "Rossi",
        "email": f"card-testing-{shared_cache['prefix']}@example.org",
        "privacy": "on",
        "csrfmiddlewaretoken": browser.cookies["csrftoken"],
    }
    # when the same email starts checkouts again and again, each served by a fresh process
    statuses = [
        browser.post(give, form, allow_redirects=False, timeout=30).status_code
        for _ in range(ATTEMPTS)
    ]
    # then the first ones up to the limit reach Stripe and the rest are refused: one count for
    # all processes
    assert statuses == [303] * EMAIL_LIMIT + [429] * (ATTEMPTS - EMAIL_LIMIT)
    assert Donation.objects.count() == EMAIL_LIMIT
    # and the counters live in the shared cache under test
    assert _keys_in(shared_cache)
    # and each attempt was served by a different process
    pids = gunicorn.pids_that_served("POST")
    assert len(pids) == len(set(pids)) == ATTEMPTS, pids


@pytest.mark.parametrize("kind", ["database", "redis"])
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_never_pass_the_limit(kind, settings, request):
    if kind == "database":
        _skip_if_in_memory()
    else:
        _client, prefix = request.getfixturevalue("redis_keys")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": prefix,
            }
        }
    # given eight threads (each with its own cache and database connection) racing on one email
    settings.GIVING_RATE_LIMITS = {"email": (10, 3600)}
    email = f"{uuid.uuid4().hex}@example.org"
    barrier = threading.Barrier(8)
    allowed = []

    def attempt_five_times():
        barrier.wait()
        try:
            allowed.extend(ratelimit.hit("email", email) for _ in range(5))
        finally:
            connection.close()
            cache.close()

    # when each attempts five times at once
    threads = [threading.Thread(target=attempt_five_times) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then exactly the limit gets through, not one more
    assert allowed.count(True) == 10


@pytest.mark.parametrize(
    "redis_url,backend",
    [
        ("", "django.core.cache.backends.db.DatabaseCache"),
        # Django's Redis backend keeping one client per connection pool (ops/cache.py)
        (REDIS_URL, "ops.cache.RedisCache"),
    ],
)
def test_redis_url_switches_the_cache_to_redis(redis_url, backend):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from config import settings as s; print(json.dumps(s.CACHES))",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        check=True,
    )
    caches = json.loads(result.stdout)
    assert caches["default"]["BACKEND"] == backend
    assert caches["default"]["LOCATION"] == (redis_url or "trama_cache")


def test_migrate_creates_the_cache_table_also_when_redis_is_the_cache(db, settings):
    migration = importlib.import_module("crm.migrations.0005_cache_table")
    editor = SimpleNamespace(connection=connection)  # all the migration reads of its editor
    # given Redis as the cache and no cache table (dropped inside this test's transaction)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE trama_cache")
    # when the migration runs, then the table is there for a later switch back to the database
    migration.create_cache_table(apps, editor)
    assert "trama_cache" in connection.introspection.table_names()
    # and running it on a database that has the table changes nothing
    migration.create_cache_table(apps, editor)
