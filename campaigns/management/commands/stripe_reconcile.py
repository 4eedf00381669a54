"""`manage.py stripe_reconcile --since 2026-11-01`: apply what Stripe webhooks missed."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns import stripe_api
from campaigns.reconcile import reconcile_since


class Command(BaseCommand):
    help = (
        "List recent Checkout Sessions, invoices, refunds, disputes, subscriptions, payouts and "
        "balance transactions; apply what webhooks missed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="date, YYYY-MM-DD (local time)")

    def handle(self, *args, since, **options):
        try:
            day = datetime.date.fromisoformat(since)
        except ValueError as exc:
            raise CommandError("--since must be a date like 2026-11-01") from exc
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        try:
            report = reconcile_since(start.timestamp())
        except stripe_api.StripeError as exc:
            raise CommandError(f"Stripe did not answer: {exc}") from exc
        changed = [row for row in report if row[0] == "changed"]
        for what, label, note in report:
            self.stdout.write(f"{what:8} {label}" + (f" ({note})" if note else ""))
        self.stdout.write(
            self.style.SUCCESS(f"{len(changed)} change(s) applied since {day:%Y-%m-%d}.")
        )
