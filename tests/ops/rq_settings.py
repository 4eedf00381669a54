"""Settings of the subprocess in test_metrics.py that counts tasks on RQ: the test settings
with django-tasks-rq on the machine's Redis, on a queue named by the test."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

QUEUE = os.environ["RQ_TEST_QUEUE"]
INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]
# Tasks are declared on "default": it must exist (nothing is queued there by the test).
TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", QUEUE]}}
RQ_QUEUES = {name: {"URL": os.environ["RQ_TEST_REDIS_URL"]} for name in ("default", QUEUE)}
