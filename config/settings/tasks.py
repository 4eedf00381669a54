"""Background tasks, the worker and the scheduler, retention, messages to donors, the donor's
page."""

from .cache import REDIS_URL
from .core import INSTALLED_APPS
from .env import env_int, env_str

# --- Background tasks ---------------------------------------------------------------------------
# TASKS_BACKEND: the database queue (django-tasks-db, one machine or a shared database) or RQ on
# Redis (`django_tasks_rq.RQBackend`, for several machines; its queues live in TASKS_REDIS_URL,
# by default REDIS_URL). `manage.py run_worker` starts the right worker for either; tests switch
# to Immediate. The state of the work (emails, statement runs, messages) is on Trama's own rows,
# never read from the backend (crm.sweep), so both behave the same.
TASKS_BACKEND = env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND, "QUEUES": ["default"]}}
RQ_BACKEND = "django_tasks_rq.RQBackend"
TASKS_REDIS_URL = env_str("TASKS_REDIS_URL", REDIS_URL or "redis://127.0.0.1:6379/0")
# Seconds RQ lets one task run before killing it: above the longest task (a statement run's
# slice, STATEMENT_RUN_SECONDS, and a message's, OUTREACH_TASK_SECONDS).
TASKS_TIMEOUT = env_int("TASKS_TIMEOUT", 1800)
RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL, "DEFAULT_TIMEOUT": TASKS_TIMEOUT}}
if TASKS_BACKEND == RQ_BACKEND:
    INSTALLED_APPS += ["django_rq"]
# Work queued longer ago than TASKS_LOST_AFTER seconds and still not done (an email, a receipt's
# PDF, a message) is presumed lost with its task (a killed worker, a flushed Redis) and queued
# again by the sweep: once per TASKS_LOST_AFTER, never once per sweep. Every task is
# idempotent, so a task that was merely waiting in a long queue costs one extra run.
TASKS_LOST_AFTER = env_int("TASKS_LOST_AFTER", 600)
# A claim (an email being sent, a statement run, a batch of a message's deliveries) whose
# heartbeat is older than CLAIM_STALE_AFTER seconds lost its worker and is taken over. Workers
# beat every few seconds; a single email send must take less (EMAIL_TIMEOUT).
CLAIM_STALE_AFTER = env_int("CLAIM_STALE_AFTER", 120)
# A statement run works this many seconds per task, then hands over to a fresh task (time
# limit; keep it below TASKS_TIMEOUT).
STATEMENT_RUN_SECONDS = env_int("STATEMENT_RUN_SECONDS", 300)
# Task workers and the scheduler write a heartbeat row (ops.heartbeat) this often; one silent
# for HEARTBEAT_SILENT_AFTER seconds has died, and /healthz says so.
HEARTBEAT_SECONDS = env_int("HEARTBEAT_SECONDS", 10)
HEARTBEAT_SILENT_AFTER = env_int("HEARTBEAT_SILENT_AFTER", 45)
# More sweep rules, from apps crm must not import: dotted paths of callables taking `now` and
# returning counts (crm.sweep.run_sweep runs them after its own).
WORKER_SWEEPS = (
    "outreach.sending.sweep",
    # Stripe events stored but not applied (their task lost, or failed), then waiting ones.
    "campaigns.webhooks.requeue_unapplied",
    "campaigns.webhooks.sweep_waiting",
    "campaigns.stripe_waiting.give_up_waiting",
)
# A Stripe event waiting for what it refers to is given up after this many days: Stripe
# retries an event for up to 3 days (https://docs.stripe.com/webhooks#retries), plus a day.
STRIPE_EVENTS_GIVE_UP_AFTER_DAYS = env_int("STRIPE_EVENTS_GIVE_UP_AFTER_DAYS", 4)
# The name a worker or the scheduler beats under (ops.heartbeat.default_name); empty: its
# host and process id. The supervisor (`bin/trama serve`) gives each child a stable name
# (`worker-1@host`), so a restarted worker takes over its dead predecessor's row.
PROCESS_NAME = env_str("PROCESS_NAME")

# Backups' manifests are signed with this key (ops.backups; default: SECRET_KEY): a restore
# needs the same key as the install that made the backup.
BACKUP_SIGNING_KEY = env_str("BACKUP_SIGNING_KEY")

# --- Retention (ops.pruning; notes: "Retention") ---------------------------------------------
# Days after which a daily job deletes what is no longer needed. Receipts and their records,
# gifts, refunds and payouts are never pruned (art. 2220 c.c.: ten years).
TASK_RESULTS_RETENTION_DAYS = env_int("TASK_RESULTS_RETENTION_DAYS", 30)
STRIPE_EVENTS_RETENTION_DAYS = env_int("STRIPE_EVENTS_RETENTION_DAYS", 90)
DONOR_LINK_EMAILS_RETENTION_DAYS = env_int("DONOR_LINK_EMAILS_RETENTION_DAYS", 90)
OUTREACH_DELIVERIES_RETENTION_DAYS = env_int("OUTREACH_DELIVERIES_RETENTION_DAYS", 365)
CHECKOUT_ATTEMPTS_RETENTION_DAYS = env_int("CHECKOUT_ATTEMPTS_RETENTION_DAYS", 30)
# Periodic jobs: (dotted path of a django.tasks task, every so many seconds). `manage.py
# run_scheduler` enqueues each when due, once across every scheduler running (ops.scheduler).
SWEEP_INTERVAL = env_int("SWEEP_INTERVAL", 60)
PERIODIC_JOBS = (
    ("crm.sweep.sweep", SWEEP_INTERVAL),
    ("outreach.tasks.start_due_messages", env_int("SCHEDULED_MESSAGES_INTERVAL", 30)),
    # Pledge emails (bank transfer details) a failed send or a lost task left behind.
    ("banking.tasks.sweep_pledge_emails", SWEEP_INTERVAL),
    ("ops.tasks.prune_old_records", 86400),
    # The queue's wait, measured on our own rows whatever the tasks backend (/healthz).
    ("ops.tasks.probe_queue", env_int("QUEUE_PROBE_SECONDS", 60)),
    # Reminders of calls', reports' and tasks' deadlines (relations.reminders): sent once.
    ("relations.tasks.send_reminders", env_int("RELATIONS_REMINDERS_INTERVAL", 3600)),
    # Before the yearly filing of the accounts, the public-fundraising reports' reminder: once.
    ("fundraising.tasks.send_filing_reminders", env_int("FUNDRAISING_REMINDERS_INTERVAL", 3600)),
    # Reminders of the 5 per mille deadlines to the network's treasurers (permille.reminders).
    ("permille.tasks.send_reminders", env_int("PERMILLE_REMINDERS_INTERVAL", 3600)),
)
# Days before a 5 per mille deadline the treasurers are reminded (each step once).
PERMILLE_REMINDER_DAYS = tuple(
    int(days) for days in env_str("PERMILLE_REMINDER_DAYS", "30,7").split(",") if days.strip()
)
# The accounts of a year (with their public-fundraising reports) are due with the RUNTS this
# many days after the year ends (art. 48 c. 3 D.Lgs. 117/2017 as amended by L. 104/2024:
# README, "Public fundraising reports"); the treasurers are reminded this many days before.
FUNDRAISING_FILING_DAYS_AFTER_YEAR_END = env_int("FUNDRAISING_FILING_DAYS_AFTER_YEAR_END", 180)
FUNDRAISING_REMINDER_DAYS = env_int("FUNDRAISING_REMINDER_DAYS", 30)
# The largest document (an invoice, a receipt) attached to a report's expense, in bytes.
FUNDRAISING_DOCUMENT_MAX_BYTES = env_int("FUNDRAISING_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
# Days before a deadline its owner is reminded by email (each step once), comma-separated.
RELATIONS_REMINDER_DAYS = tuple(
    int(days) for days in env_str("RELATIONS_REMINDER_DAYS", "7,1").split(",") if days.strip()
)

# --- Messages to donors (outreach.sending) -------------------------------------------------------
# How many worker runs share one message; deliveries each run claims at a time; seconds a run
# sends before handing over to a fresh one (keep it well below TASKS_TIMEOUT). A claimed batch's
# deliveries carry the worker's heartbeat; claims older than CLAIM_STALE_AFTER go back.
OUTREACH_SEND_WORKERS = env_int("OUTREACH_SEND_WORKERS", 2)
OUTREACH_BATCH_SIZE = env_int("OUTREACH_BATCH_SIZE", 100)
OUTREACH_TASK_SECONDS = env_int("OUTREACH_TASK_SECONDS", 300)

# --- The donor's page (crm.portal) ---------------------------------------------------------------
# The emailed link opens the page for DONOR_PORTAL_LINK_MAX_AGE seconds after it was sent; once
# opened, the page stays open in that browser for DONOR_PORTAL_SESSION_MAX_AGE seconds.
DONOR_PORTAL_LINK_MAX_AGE = env_int("DONOR_PORTAL_LINK_MAX_AGE", 3600)
DONOR_PORTAL_SESSION_MAX_AGE = env_int("DONOR_PORTAL_SESSION_MAX_AGE", 2 * 3600)
