"""Settings of the `manage.py run_worker` and `run_scheduler` processes the worker tests start:
the test settings with the test's queue (TASKS_BACKEND: the database's or RQ), receipts stored
and mail written where the test reads them back
(the test passes both folders in the environment; DATABASE_URL names its test database)."""

import os

from tests.settings import *  # noqa: F403

# The backend the test chose (config.settings read TASKS_BACKEND and TASKS_REDIS_URL too).
TASKS = {"default": {"BACKEND": os.environ["TASKS_BACKEND"], "QUEUES": ["default"]}}
MEDIA_ROOT = os.environ["WORKER_TEST_MEDIA_ROOT"]
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": os.environ["WORKER_TEST_MAIL_DIR"]},
    }
}
