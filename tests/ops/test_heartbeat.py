"""Heartbeats of workers and the scheduler (ops.heartbeat)."""

from datetime import timedelta

from django.utils import timezone

from ops import heartbeat
from ops.models import ProcessBeat


def test_a_process_that_stops_beating_is_silent_until_it_beats_again(db, settings):
    settings.HEARTBEAT_SILENT_AFTER = 30
    started = timezone.now() - timedelta(minutes=5)
    heartbeat.beat("worker-1", ProcessBeat.Kind.WORKER, started_at=started)
    assert list(heartbeat.silent()) == []

    later = timezone.now() + timedelta(seconds=31)
    assert [p.name for p in heartbeat.silent(now=later)] == ["worker-1"]
    assert list(heartbeat.alive(now=later)) == []

    heartbeat.beat("worker-1", ProcessBeat.Kind.WORKER)
    beat = ProcessBeat.objects.get(name="worker-1")
    assert beat.started_at == started  # a beat never moves the start
    assert list(heartbeat.silent()) == []


def test_a_process_that_stops_gracefully_is_forgotten(db):
    heartbeat.beat("scheduler-1", ProcessBeat.Kind.SCHEDULER)
    heartbeat.forget("scheduler-1")
    assert not ProcessBeat.objects.exists()
