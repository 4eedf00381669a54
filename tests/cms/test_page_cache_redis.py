"""The page cache on Redis, as in production (REDIS_URL: ops.cache.RedisCache, issue 21): a hit
is one round trip to Redis, a publish is seen at once, an entry rendered at an older content
version is never served, and signed-in editors or visitors with a session never get the cached
bytes."""

import uuid

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.utils import translation

from campaigns.models import CampaignPage
from cms import pagecache
from cms.models import HomePage
from cms.pagecache import HIT_HEADER, CachedPageExit

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_cache(settings):
    """The shared cache on the local Redis under a prefix of this test's own."""
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "ops.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix},
    }
    yield
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


@pytest.fixture
def campaign(demo, redis_cache):
    for alias in ("fragments", "renditions"):
        caches[alias].clear()
    return CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")


@pytest.fixture
def commands(monkeypatch):
    """Every command sent to Redis by redis-py, by name."""
    sent = []
    execute = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent.append(args[0])
        return execute(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    return sent


def _url(page, language="it"):
    with translation.override(language):
        return page.get_url()


def test_a_hit_on_redis_is_one_round_trip(client, campaign, commands):
    url = _url(campaign)
    assert client.get(url)[HIT_HEADER] == "miss"
    commands.clear()

    response = client.get(url)

    assert response[HIT_HEADER] == "hit"
    assert commands == ["MGET"]


def test_the_redis_cache_builds_one_client_not_one_per_call(campaign, monkeypatch):
    built = []
    init = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    for n in range(5):
        cache.set(f"k{n}", n)
        assert cache.get(f"k{n}") == n
    assert len(built) <= 1


def test_a_publish_on_redis_is_seen_at_once(client, campaign):
    url = _url(campaign)
    client.get(url)
    assert client.get(url)[HIT_HEADER] == "hit"

    campaign.title = "Un doposcuola ripubblicato"
    campaign.save_revision().publish()

    response = client.get(url)
    assert response[HIT_HEADER] == "miss"
    assert "Un doposcuola ripubblicato" in response.content.decode()
    assert client.get(url)[HIT_HEADER] == "hit"


def test_a_page_rendered_while_a_publish_happens_is_not_served_after_it(
    client, campaign, monkeypatch
):
    """The entry says the version read before rendering: a publish during the render makes
    it stale at once, never served as the new content."""
    serve = HomePage.serve

    def serve_while_publishing(self, request, *args, **kwargs):
        response = serve(self, request, *args, **kwargs)
        pagecache.bump_content_version()  # someone publishes while this page renders
        return response

    monkeypatch.setattr(HomePage, "serve", serve_while_publishing)
    url = _url(HomePage.objects.get())
    assert client.get(url)[HIT_HEADER] == "miss"
    monkeypatch.setattr(HomePage, "serve", serve)

    assert client.get(url)[HIT_HEADER] == "miss"
    assert client.get(url)[HIT_HEADER] == "hit"


def test_editors_and_visitors_with_a_session_never_get_the_cached_bytes_on_redis(client, campaign):
    url = _url(campaign)
    client.get(url)
    assert client.get(url)[HIT_HEADER] == "hit"
    client.cookies["sessionid"] = "x"
    assert HIT_HEADER not in client.get(url)
    del client.cookies["sessionid"]
    editor = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 200
    assert HIT_HEADER not in response
    assert "public" not in response.get("Cache-Control", "")


@pytest.fixture
def exit_app():
    """config/wsgi.py's application; as Django's test client does, the test's transaction
    survives the handler's connection cleanup."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield CachedPageExit(WSGIHandler())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_through_the_exit_a_hit_on_the_process_copy_asks_redis_only_for_the_version(
    campaign, commands, exit_app
):
    """Under gunicorn (config/wsgi.py): the page itself comes from the process's copy; the
    content version is still read from Redis at every hit, so a publish is seen at once."""
    from django.test import RequestFactory

    url = _url(campaign)

    def get():
        answer = {}
        environ = RequestFactory().get(url).environ
        body = b"".join(exit_app(environ, lambda status, headers: answer.update(headers)))
        return dict(answer), body

    assert get()[0][HIT_HEADER] == "miss"
    first_hit = get()
    commands.clear()

    headers, body = get()

    assert headers[HIT_HEADER] == "hit"
    assert body == first_hit[1]
    assert commands == ["GET"]
    pagecache.bump_content_version()
    commands.clear()
    assert get()[0][HIT_HEADER] == "miss"
    assert commands[:2] == ["GET", "MGET"]
