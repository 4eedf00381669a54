"""The demo's first Stripe payout (run by `make demo` after `seed_demo`), so that CRM → Payouts
is not empty: two card gifts to Oltre il Ponte's campaign, paid out together, recorded as a
payout's events and balance transactions are (`campaigns.payouts.apply`: `apply_payout`, then
`record_lines`, which `fetch_lines` feeds from Stripe). The lines add up to the payout to the
cent. Idempotent and deterministic: the same ids, amounts and days (counted back from today)
every time. Later payouts come from the stand-in: README, "Make a payout"."""

from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from campaigns.models import CampaignPage
from campaigns.payouts.apply import apply_payout, record_lines
from campaigns.payouts.models import Payout
from crm.models import Donation, Donor, Network

NETWORK = "oltre-il-ponte"
PAYOUT_ID = "po_demo_oltre_il_ponte_1"
# (first name, last name, gift in cents, Stripe's fee in cents: 1.5% + € 0,25 on a European card)
GIFTS = (
    ("Marta", "Colombo", 2500, 63),
    ("Giorgio", "Valsecchi", 5000, 100),
)


def _stamp(day):
    return int(timezone.make_aware(datetime.combine(day, time(12))).timestamp())


class Command(BaseCommand):
    help = "Seed the demo's first Stripe payout with its two card gifts (idempotent)."

    def handle(self, *args, **options):
        network = Network.objects.filter(slug=NETWORK).first()
        if network is None:
            self.stderr.write("Run seed_demo first.")
            return
        if Payout.objects.filter(stripe_payout_id=PAYOUT_ID).exists():
            self.stdout.write("Demo payout already there: CRM → Payouts.")
            return
        today = timezone.localdate()
        paid_on, arrival = today - timedelta(days=9), today - timedelta(days=2)
        transactions = []
        with transaction.atomic():
            campaign = CampaignPage.objects.descendant_of(network.page).live().first()
            for n, (first, last, cents, fee) in enumerate(GIFTS, start=1):
                gift = self._gift(network, campaign, first, last, cents, fee, paid_on, n)
                transactions.append(
                    {
                        "id": f"txn_demo_op_{n}",
                        "object": "balance_transaction",
                        "type": "charge",
                        "reporting_category": "charge",
                        "amount": cents,
                        "fee": fee,
                        "net": cents - fee,
                        "currency": "eur",
                        "created": _stamp(paid_on),
                        "available_on": _stamp(arrival),
                        "source": gift.stripe_charge_id,
                        "description": f"Dono a {campaign.title}" if campaign else "Dono",
                    }
                )
            total = sum(t["net"] for t in transactions)
            transactions.append(
                {
                    "id": "txn_demo_op_payout",
                    "object": "balance_transaction",
                    "type": "payout",
                    "reporting_category": "payout",
                    "amount": -total,
                    "fee": 0,
                    "net": -total,
                    "currency": "eur",
                    "created": _stamp(arrival),
                    "available_on": _stamp(arrival),
                    "source": PAYOUT_ID,
                    "description": "STRIPE PAYOUT",
                }
            )
            apply_payout(
                {
                    "id": PAYOUT_ID,
                    "object": "payout",
                    "amount": total,
                    "currency": "eur",
                    "arrival_date": _stamp(arrival),
                    "status": "paid",
                    "statement_descriptor": "STRIPE PAYOUT",
                    "trace_id": {"status": "supported", "value": "DEMO-TRACE-0001"},
                },
                gift.stripe_account,  # the account its gifts were paid on: its entity's
            )
        record_lines(Payout.objects.get(stripe_payout_id=PAYOUT_ID), transactions)
        self.stdout.write("Demo payout ready: CRM → Payouts (as a treasurer of Oltre il Ponte).")

    def _gift(self, network, campaign, first, last, cents, fee, day, n):
        donor, _created = Donor.objects.get_or_create(
            network=network,
            email=f"{first.lower()}.{last.lower()}@{network.slug}.example",
            defaults={"first_name": first, "last_name": last, "source": "demo"},
        )
        return Donation.objects.create(
            network=network,
            donor=donor,
            campaign=campaign,
            amount_cents=cents,
            fee_cents=fee,
            received_on=day,
            method=Donation.Method.CARD,
            channel=Donation.Channel.ONLINE,
            status=Donation.Status.SUCCEEDED,
            stripe_payment_intent_id=f"pi_demo_op_{n}",
            stripe_charge_id=f"ch_demo_op_{n}",
            donor_details={},
        )
