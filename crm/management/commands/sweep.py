"""`manage.py sweep`: run the sweep once (crm.sweep), as the scheduler's periodic job does."""

from django.core.management.base import BaseCommand

from crm.sweep import run_sweep


class Command(BaseCommand):
    help = "Queue again what a dead worker or a lost task left: emails, receipt PDFs, runs."

    def handle(self, **options):
        counts = run_sweep()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
