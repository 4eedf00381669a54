"""One truth for the money, checked on random histories (Hypothesis).

Each example is a network's history built with the product's own verbs (`crm.gifts`,
`crm.plans`, `crm.offline`, the Stripe webhook handlers for refunds and disputes): one-off and
monthly gifts, offline gifts and imported ones, checkouts that never paid, partial and full
refunds, disputes won, lost and still open, payments around midnight of 31 December in Rome
(the tests run in Pacific/Auckland, where it is already the next day). Every figure a treasurer
reads (dashboard, fundraising report, community figures, gifts export, yearly per-donor
summary, Agenzia Entrate data) must equal a reference computed here, in plain Python over the
generated history, without calling the product's figure code.

Bounded by default (`max_examples=25`); `TRAMA_HYPOTHESIS_EXAMPLES=500` runs more.

Mutations seen to make it fail (each tried alone, then reverted): the yearly summary's total
ignoring refunds; its deductible part ignoring the receipts; the dashboard ignoring refunds; the
fundraising report ignoring refunds; the gifts list keeping checkout attempts; the gifts
export's net ignoring fees; the Agenzia data counting only gifts that still count; a Stripe
payment's day taken in the server's time zone; the payouts report's net ignoring disputes.
"""

import csv
import datetime
import io
import os
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns import stripe_handlers, stripe_matching
from campaigns.payouts import apply as money
from campaigns.payouts.report import payout_totals
from crm import gifts, plans
from crm.admin.dashboard import figures
from crm.models import Donation, Donor, Network, RecurringPlan
from crm.offline import record_offline_gift
from crm.tax_data import tax_data
from outreach.community import MIN_DONORS, network_cells
from outreach.report import fundraising_report

hypothesis_settings.register_profile(
    "trama-money",
    max_examples=int(os.environ.get("TRAMA_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXAMPLES = hypothesis_settings.get_profile("trama-money")

ROME = ZoneInfo("Europe/Rome")
YEARS = (2024, 2025)
UTC = datetime.UTC

# Moments that fall on different days in Rome, in UTC and in Auckland.
EDGES = [
    datetime.datetime(2024, 12, 31, 10, 0, tzinfo=UTC),  # Rome 11:00 31/12, Auckland 1/1
    datetime.datetime(2024, 12, 31, 22, 59, tzinfo=UTC),  # Rome 23:59 31/12
    datetime.datetime(2024, 12, 31, 23, 0, tzinfo=UTC),  # Rome 00:00 1/1/2025
    datetime.datetime(2025, 1, 1, 0, 30, tzinfo=UTC),
    datetime.datetime(2025, 12, 31, 22, 30, tzinfo=UTC),  # Rome 23:30 31/12/2025
    datetime.datetime(2024, 1, 1, 0, 30, tzinfo=UTC),  # Rome 01:30 1/1/2024
    datetime.datetime(2023, 12, 31, 22, 30, tzinfo=UTC),  # Rome 23:30 31/12/2023
]

# (kind, codice fiscale): who gives. Persons with a valid CF are reported to the Agenzia; the
# others are left out (no CF, a CF failing validation, an organisation).
DONORS = [
    ("person", "RSSMRA80A01H501U"),
    ("person", "RSSMRA85T10A562S"),
    ("person", "RSSNNA80A41F205O"),
    ("person", ""),
    ("organisation", "92012340011"),
    ("person", "RSSMRA85T10A562T"),
]
TRACEABLE = {"card", "sepa_debit", "paypal", "bank_transfer", "cheque"}

moments = st.one_of(
    st.sampled_from(EDGES),
    st.datetimes(
        min_value=datetime.datetime(2023, 12, 30),
        max_value=datetime.datetime(2025, 12, 31, 20),
        timezones=st.just(UTC),
    ),
)
# What happens to a paid gift afterwards.
FATES = ["kept", "partial", "full", "dispute_open", "dispute_won", "dispute_lost", "partial_lost"]


@st.composite
def events(draw):
    kind = draw(st.sampled_from(["online", "plan", "offline", "import", "attempt"]))
    amount = draw(st.integers(min_value=100, max_value=60000))
    event = {
        "kind": kind,
        "donor": draw(st.integers(min_value=0, max_value=len(DONORS) - 1)),
        "amount": amount,
        "moment": draw(moments),
        "wants_receipt": draw(st.booleans()),
        "fee": draw(st.integers(min_value=0, max_value=min(amount, 500))),
        "method": draw(st.sampled_from(["bank_transfer", "cash", "cheque", "other"])),
        "attempt": draw(st.sampled_from(["pending", "failed", "cancelled"])),
        "fate": draw(st.sampled_from(FATES)),
        "partial": draw(st.integers(min_value=1, max_value=amount - 1)),
    }
    if kind in ("offline", "import") and event["fate"].startswith("dispute"):
        event["fate"] = "kept"  # no chargebacks on a bank transfer
    if kind in ("offline", "import") and event["fate"] == "partial_lost":
        event["fate"] = "partial"
    return event


histories = st.lists(events(), min_size=0, max_size=12)


# --- The reference: plain Python over the history -----------------------------------------------


@dataclass
class Gift:
    """What the test knows of one gift, written without the product's figure code."""

    donor: int
    amount: int
    method: str
    day: datetime.date  # the day in Rome
    charge: str = ""  # a Stripe charge: the balance transactions below are Stripe's own record
    txns: list = field(default_factory=list)  # (type, amount, fee) as Stripe's balance says
    refunded: int = 0
    disputed: bool = False
    fee: int = 0
    wants_receipt: bool = False

    @property
    def received(self):
        return True

    @property
    def counts(self):
        return not self.disputed and self.refunded < self.amount

    @property
    def kept(self):
        return self.amount - self.refunded if self.counts else 0

    @property
    def net(self):
        return self.kept - self.fee

    @property
    def receipted(self):
        # A receipt is issued when the gift is paid if asked; a refund voids it (and reissues
        # it for what is left); an open dispute flags it. What counts is what it covers.
        return self.wants_receipt and self.counts


def rome_day(moment):
    return moment.astimezone(ROME).date()


# --- Building the history with the product's verbs -------------------------------------------


def _donors(network):
    made = []
    for i, (kind, cf) in enumerate(DONORS):
        made.append(
            Donor.objects.create(
                network=network,
                kind=kind,
                first_name="" if kind == "organisation" else f"Nome{i}",
                last_name="" if kind == "organisation" else f"Cognome{i}",
                organisation_name=f"Ente {i}" if kind == "organisation" else "",
                email=f"donor{i}@example.org",
                codice_fiscale=cf,
                street_address="Via Roma 1",
                postal_code="20121",
                city="Milano",
            )
        )
    return made


def _pay_online(network, donor, event, n):
    charge = f"ch_prop_{n}"
    if event["kind"] == "plan":
        plan = RecurringPlan.objects.create(
            network=network,
            donor=donor,
            amount_cents=event["amount"],
            status=RecurringPlan.Status.ACTIVE,
            stripe_subscription_id=f"sub_prop_{n}",
        )
        origin = Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=event["amount"],
            wants_receipt=event["wants_receipt"],
            status=Donation.Status.PENDING,
        )
        plans.record_plan_charge(
            plan,
            invoice_id=f"in_prop_{n}",
            amount_cents=event["amount"],
            currency="eur",
            origin=origin,
            # As `invoice.paid` reads it: Stripe's timestamp, turned into a day by the handler.
            received_on=stripe_matching._date(int(event["moment"].timestamp())),
        )
        donation = Donation.objects.get(stripe_invoice_id=f"in_prop_{n}")
    else:
        donation = Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=event["amount"],
            wants_receipt=event["wants_receipt"],
            status=Donation.Status.PENDING,
        )
        gifts.record_payment(
            donation,
            amount_cents=event["amount"],
            currency="eur",
            received_on=stripe_matching._date(int(event["moment"].timestamp())),
        )
    # The payment's charge with its balance transaction, as `fetch_payment_fee` reads it.
    donation.refresh_from_db()
    money.record_charge_balance(
        donation,
        {"id": charge, "balance_transaction": {"id": f"txn_prop_{n}", "fee": event["fee"]}},
    )
    return charge


def _refund_as_stripe_says(charge, total):
    stripe_handlers.charge_refunded({"id": charge, "amount_refunded": total}, "")


def _dispute(charge, status):
    handler = stripe_handlers.dispute_created if status == "needs_response" else None
    handler = handler or stripe_handlers.dispute_closed
    handler({"id": f"dp_{charge}", "charge": charge, "status": status}, "")


def apply_history(network, donors, history):
    """Play the history through the product; return the reference gifts."""
    reference = []
    for n, event in enumerate(history):
        donor = donors[event["donor"]]
        day = rome_day(event["moment"])
        wants = event["wants_receipt"] and bool(DONORS[event["donor"]][1])
        event = {**event, "wants_receipt": wants}
        if event["kind"] == "attempt":
            attempt = Donation.objects.create(
                network=network,
                amount_cents=event["amount"],
                received_on=day,  # what the form's default would show: nothing arrived
                status=Donation.Status.PENDING,
                donor_details={"email": "someone@example.org"},
            )
            if event["attempt"] != "pending":
                gifts.record_payment_failure(attempt, status=event["attempt"])
            continue
        if event["kind"] in ("offline", "import"):
            gift = record_offline_gift(
                network=network,
                donor=donor,
                amount_cents=event["amount"],
                received_on=day,
                method=event["method"],
                wants_receipt=wants,
                confirm=event["kind"] == "offline",  # an import confirms nothing
            )
            ref = Gift(event["donor"], event["amount"], event["method"], day, wants_receipt=wants)
            reference.append(ref)
            if event["fate"] in ("partial", "full"):
                amount = event["partial"] if event["fate"] == "partial" else event["amount"]
                gifts.record_refund(gift, amount)
                ref.refunded = amount
            continue
        charge = _pay_online(network, donor, event, n)
        ref = Gift(
            event["donor"],
            event["amount"],
            "card",
            day,
            charge=charge,
            fee=event["fee"],
            wants_receipt=wants,
        )
        ref.txns.append(("charge", event["amount"], event["fee"]))
        reference.append(ref)
        fate = event["fate"]
        if fate in ("partial", "partial_lost"):
            _refund_as_stripe_says(charge, event["partial"])
            ref.refunded = event["partial"]
            ref.txns.append(("refund", -event["partial"], 0))
        if fate == "full":
            _refund_as_stripe_says(charge, event["amount"])
            ref.refunded = event["amount"]
            ref.txns.append(("refund", -event["amount"], 0))
        if fate.startswith("dispute") or fate == "partial_lost":
            _dispute(charge, "needs_response")
            ref.disputed = True
            # Stripe takes the disputed amount back when the dispute opens.
            ref.txns.append(("adjustment", -(ref.amount - ref.refunded), 0))
        if fate == "dispute_won":
            _dispute(charge, "won")
            ref.disputed = False
            ref.txns.append(("adjustment", ref.amount - ref.refunded, 0))
        if fate in ("dispute_lost", "partial_lost"):
            _dispute(charge, "lost")
            ref.disputed = False
            ref.refunded = ref.amount
    return reference


# --- Reading the screens ---------------------------------------------------------------------


def _csv(response):
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _cents(text):
    return int((Decimal(text.replace(",", ".")) * 100).to_integral_value())


def check_dashboard(network, reference):
    networks = Network.objects.filter(pk=network.pk)
    for year in YEARS:
        shown = figures(networks, today=datetime.date(year, 12, 31))
        this = [g for g in reference if g.day.year == year and g.counts]
        last = [g for g in reference if g.day.year == year - 1 and g.counts]
        assert shown["this_year"] == sum(g.kept for g in this)
        assert shown["last_year"] == sum(g.kept for g in last)
        assert shown["gifts_this_year"] == len(this)
        months = [sum(g.kept for g in this if g.day.month == m) for m in range(1, 13)]
        assert shown["monthly"] == months


def check_fundraising_report_and_community(network, reference):
    for year in YEARS:
        report = fundraising_report(network, year)
        this = [g for g in reference if g.day.year == year and g.counts]
        donors = {g.donor for g in this}
        assert report["this_year"]["amount"] == sum(g.kept for g in this)
        assert report["this_year"]["gifts"] == len(this)
        assert report["this_year"]["donors"] == len(donors)
        assert report["monthly"] == [
            sum(g.kept for g in this if g.day.month == m) for m in range(1, 13)
        ]
        by_method = report["breakdowns"]["method"]["this_year"]
        assert sum(row["amount"] for row in by_method.values()) == sum(g.kept for g in this)
        cells = network_cells(network, year)
        expected = sum(g.kept for g in this) if len(donors) >= MIN_DONORS else None
        assert cells["amount"] == expected


def check_gifts_export(client, network, reference):
    table = _csv(client.get(f"/admin/crm/donations/?network={network.pk}&export=csv"))
    header, lines = table[0], table[1:]
    rows = [dict(zip(header, line, strict=True)) for line in lines]
    assert len(rows) == len(reference)  # checkout attempts are not gifts
    assert sum(_cents(r["Amount (EUR)"]) for r in rows) == sum(g.amount for g in reference)
    assert sum(_cents(r["Refunded (EUR)"]) for r in rows) == sum(g.refunded for g in reference)
    assert sum(_cents(r["Fee (EUR)"]) for r in rows) == sum(g.fee for g in reference)
    assert sum(_cents(r["Net (EUR)"]) for r in rows) == sum(g.net for g in reference)
    nets = sorted((_cents(r["Amount (EUR)"]), _cents(r["Net (EUR)"])) for r in rows)
    assert nets == sorted((g.amount, g.net) for g in reference)


def check_yearly_summary(client, network, donors, reference):
    for year in YEARS:
        table = _csv(client.get(f"/admin/crm/donations/export/summary/?year={year}"))
        shown = {
            int(line[0]): (int(line[6]), _cents(line[7]), _cents(line[8])) for line in table[1:]
        }
        expected = {}
        for g in reference:
            if g.day.year != year or not g.counts:
                continue
            n, total, deductible = expected.get(donors[g.donor].pk, (0, 0, 0))
            receipted = g.receipted and g.method != "cash"
            expected[donors[g.donor].pk] = (
                n + 1,
                total + g.kept,
                deductible + (g.kept if receipted else 0),
            )
        assert shown == expected


def check_tax_data(network, reference, refund_year):
    for year in (*YEARS, refund_year):
        data = tax_data(network, year)
        gifts_by_cf = defaultdict(int)
        refunds_by_cf = defaultdict(int)
        left_out = 0
        for g in reference:
            kind, cf = DONORS[g.donor]
            reported = kind == "person" and g.donor in (0, 1, 2) and g.method in TRACEABLE
            if g.day.year == year:
                if reported:
                    gifts_by_cf[cf] += g.amount  # reported as given; refunds apart
                else:
                    left_out += g.amount
            if g.refunded and refund_year == year and reported:
                refunds_by_cf[(cf, g.day.year)] += g.refunded
        assert {r.codice_fiscale: r.amount_cents for r in data.rows} == dict(gifts_by_cf)
        assert {(r.codice_fiscale, r.gift_year): r.amount_cents for r in data.refunds} == dict(
            refunds_by_cf
        )
        assert data.left_out_cents == left_out


def check_payout(network, reference):
    """One payout carries every balance transaction of the history: the payouts report's net
    is what the network's online gifts raised less Stripe's fees, to the cent."""
    online = [g for g in reference if g.charge]
    txns = []
    for g in online:
        for i, (kind, amount, fee) in enumerate(g.txns):
            category = "dispute" if kind == "adjustment" else kind
            txns.append(
                {
                    "id": f"txn_{g.charge}_{i}",
                    "type": kind,
                    "reporting_category": category,
                    "amount": amount,
                    "fee": fee,
                    "net": amount - fee,
                    "source": g.charge,
                }
            )
    expected_net = sum(g.net for g in online)
    payout, _changed = money.upsert_payout(
        {"id": "po_prop", "amount": expected_net, "status": "paid", "arrival_date": 1735689600},
        "",
    )
    money._store(payout, txns)
    totals = payout_totals(payout)
    assert totals.gross == sum(g.amount for g in online)
    assert totals.fees == sum(g.fee for g in online)
    assert totals.refunds + totals.disputes == sum(g.amount - g.kept for g in online)
    assert totals.net == expected_net and totals.difference == 0


@pytest.mark.django_db
@EXAMPLES
@given(history=histories)
def test_every_figure_equals_an_independent_sum(history, network_factory, client):
    admin = get_user_model().objects.filter(username="tesoriere-proprieta").first()
    admin = admin or get_user_model().objects.create_superuser(
        "tesoriere-proprieta", "t@example.org", "x"
    )
    client.force_login(admin)
    with transaction.atomic():  # each example starts from an empty network, rolled back
        network = network_factory("rete-proprieta")
        donors = _donors(network)
        reference = apply_history(network, donors, history)
        refund_year = datetime.datetime.now(ROME).year  # refunds are made today, in Rome
        check_dashboard(network, reference)
        check_fundraising_report_and_community(network, reference)
        check_gifts_export(client, network, reference)
        check_yearly_summary(client, network, donors, reference)
        check_tax_data(network, reference, refund_year)
        check_payout(network, reference)
        transaction.set_rollback(True)
