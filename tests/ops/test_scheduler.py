"""The scheduler of periodic jobs (ops.scheduler, `manage.py run_scheduler`): each due run is
enqueued once however many schedulers run, on several machines."""

import datetime

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ops import scheduler
from ops.models import PeriodicJob, ProcessBeat
from tests.worker.conftest import wait_for

SWEEP = "crm.sweep.sweep"


@pytest.fixture
def queue_in_database(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    settings.PERIODIC_JOBS = ((SWEEP, 60),)


def enqueued(path=SWEEP):
    return DBTaskResult.objects.filter(task_path=path, status=TaskResultStatus.READY).count()


@pytest.mark.django_db
def test_two_schedulers_enqueue_a_due_job_once(queue_in_database):
    # given the sweep every minute, and two schedulers (two machines) sharing the job's row
    jobs = scheduler.periodic_jobs()
    scheduler.ensure_rows(jobs)
    scheduler.ensure_rows(jobs)  # the second one starting
    now = timezone.now()

    # when both look at the jobs at the same moment
    first = scheduler.enqueue_due(jobs, now)
    second = scheduler.enqueue_due(jobs, now)

    # then one of them enqueued it, once
    assert (first, second) == ([SWEEP], [])
    assert enqueued() == 1
    # and not again before a minute has passed, then once more
    assert scheduler.enqueue_due(jobs, now + datetime.timedelta(seconds=59)) == []
    later = now + datetime.timedelta(seconds=60)
    assert scheduler.enqueue_due(jobs, later) == [SWEEP]
    assert scheduler.enqueue_due(jobs, later) == []
    assert enqueued() == 2
    assert PeriodicJob.objects.get(name=SWEEP).last_enqueued_at == later


@pytest.mark.django_db
def test_a_job_whose_enqueue_fails_is_tried_again_at_the_next_tick(queue_in_database, settings):
    # given a backend that cannot take tasks (Redis down)
    jobs = scheduler.periodic_jobs()
    scheduler.ensure_rows(jobs)
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_rq.RQBackend",
            "QUEUES": ["default"],
        }
    }
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:9/0"}}
    now = timezone.now()

    # when the scheduler finds it due
    assert scheduler.enqueue_due(jobs, now) == []

    # then the claim is given back: once the backend is back, the job goes out
    assert PeriodicJob.objects.get(name=SWEEP).last_enqueued_at is None
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    assert scheduler.enqueue_due(jobs, now) == [SWEEP]


@pytest.mark.django_db(transaction=True)
def test_two_scheduler_processes_never_enqueue_the_same_run(
    tasks_backend, start_scheduler, mail_dir
):
    # given two `run_scheduler` processes with the sweep due every second
    schedulers = [start_scheduler(SWEEP_INTERVAL="1"), start_scheduler(SWEEP_INTERVAL="1")]
    wait_for(lambda: ProcessBeat.objects.filter(kind="scheduler").count() == 2, "two beats")

    # when they have run side by side for a few runs of the job
    wait_for(lambda: sweep_runs(tasks_backend) >= 4, "four sweeps enqueued", schedulers[0])

    # then they stop gracefully and forget their heartbeats
    for process in schedulers:
        assert process.stop() == 0, process.log()
    assert not ProcessBeat.objects.exists()
    # and each due run was enqueued by one scheduler: runs are a second apart (two schedulers
    # enqueuing the same run would put two within a few milliseconds)
    times = sorted(enqueue_times(tasks_backend))
    assert len(times) >= 4
    assert all(b - a >= datetime.timedelta(seconds=0.5) for a, b in zip(times, times[1:]))


def sweep_runs(backend):
    return len(enqueue_times(backend))


def enqueue_times(backend):
    if backend == "db":
        return list(
            DBTaskResult.objects.filter(task_path=SWEEP).values_list("enqueued_at", flat=True)
        )
    from tests.worker.conftest import redis_queue

    return [job.enqueued_at for job in redis_queue().jobs if job.func_name == SWEEP]
