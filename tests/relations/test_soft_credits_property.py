"""Soft credits never change money (Hypothesis, over random histories).

Each example: a network with people and organisations (each with its donor record), gifts of
all of them (arrived, partly or wholly refunded, checkouts that never paid), then random
relationships (employee of, board member of, contact at; soft-credited or not, a person tied to
several organisations or twice to one). Money as crm reads it (the dashboard's figures, the
network's `Money`, each donor's `raised`) is the same before and after; each organisation's
relationship figures equal a reference summed here in plain Python: its own gifts once, and each
soft-credited person's gifts once (whatever how many ties), never the organisation's own.

Mutations seen to make it fail: soft credits joined through every relationship (a person tied
twice counted twice); the organisation's own gifts left in its soft credits; refunds ignored in
the soft credits."""

import datetime
import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crm import gifts
from crm.admin.dashboard import figures as dashboard_figures
from crm.models import Donation, Donor, Network
from crm.money import fiscal_today
from crm.offline import record_offline_gift
from relations.figures import relationship_figures
from relations.models import Organisation, Relationship

EXAMPLES = hypothesis_settings(
    max_examples=int(os.environ.get("TRAMA_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PEOPLE, ORGANISATIONS = 4, 2
PAYERS = PEOPLE + ORGANISATIONS  # index >= PEOPLE: an organisation's own donor record

gift = st.tuples(
    st.integers(0, PAYERS - 1),
    st.integers(1, 500_000),
    st.sampled_from(["kept", "part_refund", "refund", "attempt"]),
    st.integers(0, 400),  # days ago
)
tie = st.tuples(
    st.integers(0, PEOPLE - 1),
    st.integers(0, ORGANISATIONS - 1),
    st.sampled_from([k for k, _label in Relationship.Kind.choices]),
    st.booleans(),
)
histories = st.tuples(st.lists(gift, max_size=14), st.lists(tie, max_size=8))


def _money(network):
    today = fiscal_today()
    board = dashboard_figures(Network.objects.filter(pk=network.pk), today)
    donations = Donation.objects.filter(network=network)
    per_donor = {
        d.pk: donations.filter(donor=d).raised() for d in Donor.objects.filter(network=network)
    }
    return (
        board["this_year"],
        board["last_year"],
        board["gifts_this_year"],
        board["monthly"],
        donations.money(),
        per_donor,
    )


@pytest.mark.django_db
@EXAMPLES
@given(history=histories)
def test_soft_credits_never_change_money(history, network_factory):
    gifts_made, ties = history
    with transaction.atomic():  # each example from an empty network, rolled back
        network = network_factory("rete-soft-credit")
        people = [
            Donor.objects.create(network=network, first_name=f"P{i}", last_name="Rossi")
            for i in range(PEOPLE)
        ]
        organisations = []
        for i in range(ORGANISATIONS):
            donor = Donor.objects.create(
                network=network, kind=Donor.Kind.ORGANISATION, organisation_name=f"Org {i}"
            )
            organisations.append(
                Organisation.objects.create(network=network, name=f"Org {i}", donor=donor)
            )
        payers = people + [o.donor for o in organisations]
        kept = dict.fromkeys(range(PAYERS), 0)  # the reference: what each payer's gifts keep
        today = fiscal_today()
        for payer, cents, fate, days_ago in gifts_made:
            on = today - datetime.timedelta(days=days_ago)
            if fate == "attempt":
                Donation.objects.create(network=network, donor=payers[payer], amount_cents=cents)
                continue
            donation = record_offline_gift(
                network=network,
                donor=payers[payer],
                amount_cents=cents,
                received_on=on,
                method=Donation.Method.BANK_TRANSFER,
                confirm=False,
                auto_receipt=False,
            )
            refund = {"kept": 0, "part_refund": cents // 2, "refund": cents}[fate]
            if refund:
                gifts.record_refund(donation, refund)
            kept[payer] += cents - refund
        before = _money(network)

        credited = {o: set() for o in range(ORGANISATIONS)}
        for person, org, kind, soft in ties:
            Relationship.objects.get_or_create(
                network=network,
                person=people[person],
                organisation=organisations[org],
                kind=kind,
                defaults={"soft_credit": soft},
            )
        for rel in Relationship.objects.filter(network=network, soft_credit=True):
            credited[organisations.index(rel.organisation)].add(people.index(rel.person))

        assert _money(network) == before
        for index, organisation in enumerate(organisations):
            result = relationship_figures(organisation)
            assert result.given == kept[PEOPLE + index]
            assert result.soft_credits == sum(kept[p] for p in credited[index])
            assert result.relationship == result.given + result.soft_credits
        transaction.set_rollback(True)
