"""`manage.py prune`: apply the retention policy once (ops.pruning), as the daily job does."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from ops.pruning import prune


class Command(BaseCommand):
    help = (
        "Delete what the retention policy no longer keeps: old finished task results, applied "
        "Stripe events, link-only emails, per-donor deliveries of old messages, checkout "
        "attempts that never reached a payment. Receipts and "
        "their records are never pruned."
    )

    def handle(self, *args, **options):
        for name, count in prune(timezone.now()).items():
            self.stdout.write(f"{name}: {count}")
