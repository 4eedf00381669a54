"""`manage.py sweep`: run the worker's sweep once (crm.sweep) and show the queue's backlog."""

from django.core.management.base import BaseCommand

from crm.sweep import queue_backlog, run_sweep


class Command(BaseCommand):
    help = "Requeue stuck tasks, enqueue missing receipt PDFs and unsent emails; show the queue."

    def handle(self, **options):
        counts = run_sweep()
        backlog = queue_backlog()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
        self.stdout.write(" ".join(f"{name}={count}" for name, count in backlog.items()))
