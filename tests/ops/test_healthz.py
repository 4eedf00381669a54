"""/healthz: database, cache, private storage, worker heartbeats and the queue's wait."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ops import heartbeat, queue_probe
from ops.models import ProcessBeat, QueueProbe
from ops.tasks import probe_queue


@pytest.fixture
def running(db, settings):
    """A worker and a scheduler beating, as on a healthy machine."""
    settings.HEARTBEAT_SILENT_AFTER = 30
    heartbeat.beat("worker-1@test", ProcessBeat.Kind.WORKER)
    heartbeat.beat("scheduler@test", ProcessBeat.Kind.SCHEDULER)


def read(client):
    response = client.get("/healthz")
    return response, response.json()


def test_green_with_every_check_ok_and_no_cookie(client, running):
    response, body = read(client)
    assert response.status_code == 200
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "cache", "storage", "processes", "queue"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["processes"]["workers_alive"] == 1
    # a monitor polling every few seconds gets no session nor CSRF cookie, and nothing cached
    assert not response.cookies
    assert "no-cache" in response["Cache-Control"]


def test_red_when_a_worker_stopped_beating_then_green_when_it_beats_again(client, running):
    ProcessBeat.objects.filter(name="worker-1@test").update(
        beat_at=timezone.now() - timedelta(seconds=31)
    )
    heartbeat.beat("worker-2@test", ProcessBeat.Kind.WORKER)
    response, body = read(client)
    assert response.status_code == 503
    assert body["checks"]["processes"] == {
        "ok": False,
        "workers_alive": 1,
        "schedulers_alive": 1,
        "silent": ["worker-1@test"],
    }
    # the supervisor restarts it under the same name
    heartbeat.beat("worker-1@test", ProcessBeat.Kind.WORKER)
    assert read(client)[0].status_code == 200


def test_red_without_any_worker(client, running):
    heartbeat.forget("worker-1@test")
    response, body = read(client)
    assert response.status_code == 503
    assert body["checks"]["processes"]["workers_alive"] == 0


def test_red_without_a_scheduler(client, running):
    heartbeat.forget("scheduler@test")
    response, body = read(client)
    assert response.status_code == 503
    assert body["checks"]["processes"]["schedulers_alive"] == 0


def test_the_queue_turns_red_when_a_probe_waits_too_long(
    client, running, settings, django_capture_on_commit_callbacks
):
    settings.QUEUE_WAIT_LIMIT = 60
    # given a probe the workers have not answered for two minutes
    QueueProbe.objects.create(enqueued_at=timezone.now() - timedelta(minutes=2))
    response, body = read(client)
    assert response.status_code == 503
    assert body["checks"]["queue"]["ok"] is False
    assert body["checks"]["queue"]["oldest_wait_seconds"] >= 120
    # when it is answered, the queue is green again
    QueueProbe.objects.update(answered_at=timezone.now())
    assert read(client)[1]["checks"]["queue"] == {
        "ok": True,
        "oldest_wait_seconds": 0.0,
        "limit_seconds": 60,
    }


def test_the_periodic_probe_goes_through_the_queue_and_is_answered(
    db, django_capture_on_commit_callbacks
):
    # the scheduler queues probe_queue; it writes a probe and queues its answer after commit
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        probe_queue.enqueue()
    probe = QueueProbe.objects.get()
    assert probe.answered_at is None
    assert queue_probe.oldest_wait() > timedelta(0)
    # when a worker runs the answer (Immediate backend in tests), the wait is over
    for callback in callbacks:
        callback()
    probe.refresh_from_db()
    assert probe.answered_at is not None
    assert queue_probe.oldest_wait() == timedelta(0)


def test_old_answered_probes_are_pruned(db, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - timedelta(days=2)
    QueueProbe.objects.create(enqueued_at=long_ago, answered_at=long_ago)
    waiting = QueueProbe.objects.create(enqueued_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        probe_queue.enqueue()
    # the old answered one is gone; the unanswered one stays (it is the wait)
    assert set(QueueProbe.objects.values_list("pk", flat=True)) - {waiting.pk} == {
        QueueProbe.objects.latest("pk").pk
    }


def test_red_when_private_storage_fails(client, running, settings, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "crm.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": not_a_folder / "private"},
        },
    }
    response, body = read(client)
    assert response.status_code == 503
    assert body["checks"]["storage"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_red_when_the_cache_is_down_and_no_secret_in_the_answer(client, running, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://:s3cret-redis-password@127.0.0.1:9/0",
        },
    }
    response, body = read(client)
    assert response.status_code == 503
    assert body["checks"]["cache"]["ok"] is False
    assert "s3cret" not in response.content.decode()
    assert settings.SECRET_KEY not in response.content.decode()


def test_the_storage_probe_leaves_no_file_behind(client, running, settings):
    from django.core.files.storage import storages

    read(client)
    storage = storages["private"]
    assert not storage.exists("healthz") or storage.listdir("healthz")[1] == []


def test_the_storage_check_on_a_private_bucket(client, running, private_bucket):
    # given private files on an S3 bucket (moto's server), the probe goes there and is removed
    response, body = read(client)
    assert body["checks"]["storage"] == {"ok": True}
    listed = private_bucket["client"].list_objects_v2(Bucket=private_bucket["bucket"])
    assert listed.get("KeyCount", 0) == 0
    # when the bucket is gone, /healthz is red
    private_bucket["client"].delete_bucket(Bucket=private_bucket["bucket"])
    response, body = read(client)
    assert response.status_code == 503
    assert body["checks"]["storage"]["ok"] is False
    assert private_bucket["bucket"] not in response.content.decode()
