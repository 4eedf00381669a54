"""Settings of the `manage.py run_worker` processes the worker tests start: the test settings
with the database queue, receipts stored and mail written where the test reads them back
(the test passes both folders in the environment; DATABASE_URL names its test database)."""

import os

from tests.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
MEDIA_ROOT = os.environ["WORKER_TEST_MEDIA_ROOT"]
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": os.environ["WORKER_TEST_MAIL_DIR"]},
    }
}
