from tests.worker.conftest import (  # noqa: F401  (the worker tests' fixtures)
    mail_dir,
    start_scheduler,
    tasks_backend,
    worker_env,
)
