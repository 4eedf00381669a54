"""A segment's members against a hand-built network: every filter, LYBUNT and SYBUNT on both
sides of a year end, and nobody from another network, merged or without a counted gift."""

import datetime

import pytest
from django.utils import timezone

from campaigns.models import CampaignPage
from crm.models import Donation, Donor, RecurringPlan
from outreach.models import Segment
from outreach.segments import members, reachable

D = datetime.date
NEW_YEAR = D(2027, 1, 10)
OLD_YEAR_EVE = D(2026, 12, 31)
COUNTED, FAILED = Donation.Status.SUCCEEDED, Donation.Status.FAILED


@pytest.fixture
def world(demo, network_factory):
    network = network_factory("rete-segmenti")
    other = demo["valle-serena"]
    campaign = CampaignPage.objects.first()
    donors = {}

    def donor(name, net=network, **fields):
        donors[name] = Donor.objects.create(
            network=net, first_name=name, last_name="Test", email=f"{name}@example.org", **fields
        )
        return donors[name]

    def gift(who, day, cents, status=COUNTED, refunded=0, campaign_page=None):
        Donation.objects.create(
            network=who.network,
            donor=who,
            amount_cents=cents,
            refunded_cents=refunded,
            received_on=day,
            status=status,
            campaign=campaign_page,
        )

    def plan(who, status):
        RecurringPlan.objects.create(
            network=who.network, donor=who, amount_cents=1000, status=status
        )

    anna = donor("anna")
    gift(anna, D(2026, 12, 31), 5000, campaign_page=campaign)
    plan(anna, RecurringPlan.Status.CANCELLED)
    bruno = donor("bruno", newsletter=True)  # asked, never confirmed
    gift(bruno, D(2026, 12, 31), 2500)
    gift(bruno, D(2027, 1, 1), 2500)
    plan(bruno, RecurringPlan.Status.ACTIVE)
    carla = donor("carla")
    gift(carla, D(2025, 12, 31), 1000)
    dario = donor("dario")
    gift(dario, D(2025, 6, 1), 3000)
    gift(dario, D(2026, 3, 1), 7000)
    plan(dario, RecurringPlan.Status.CANCELLED)
    plan(dario, RecurringPlan.Status.ACTIVE)
    elena = donor("elena", language="en", newsletter=True, newsletter_confirmed_at=timezone.now())
    gift(elena, D(2027, 1, 1), 20000, campaign_page=campaign)
    fabio = donor("fabio")
    gift(fabio, D(2024, 5, 1), 1500)
    gift(fabio, D(2027, 1, 2), 1500)
    gina = donor("gina")  # only gifts that do not count
    gift(gina, D(2026, 5, 1), 9000, status=FAILED)
    gift(gina, D(2025, 5, 1), 9000, status=Donation.Status.REFUNDED, refunded=9000)
    hugo = donor("hugo")
    gift(hugo, D(2026, 6, 1), 10000, status=Donation.Status.PARTIALLY_REFUNDED, refunded=4000)
    merged = donor("merged", merged_into=anna)
    gift(merged, D(2026, 6, 1), 5000)
    stranger = donor("stranger", net=other, language="en")
    gift(stranger, D(2026, 6, 1), 5000, campaign_page=campaign)
    gift(stranger, D(2024, 6, 1), 5000)
    return network, campaign, donors


def names(queryset):
    return sorted(queryset.values_list("first_name", flat=True))


def segment(network, **filters):
    return Segment(network=network, name="test", **filters)


EVERYONE = ["anna", "bruno", "carla", "dario", "elena", "fabio", "gina", "hugo"]


@pytest.mark.parametrize(
    ("filters", "today", "expected"),
    [
        ({}, NEW_YEAR, EVERYONE),
        # LYBUNT and SYBUNT across the year end
        ({"lybunt": True}, NEW_YEAR, ["anna", "dario", "hugo"]),
        ({"lybunt": True}, D(2027, 1, 1), ["anna", "dario", "hugo"]),
        ({"lybunt": True}, OLD_YEAR_EVE, ["carla"]),
        ({"sybunt": True}, NEW_YEAR, ["carla"]),
        ({"sybunt": True}, D(2026, 1, 1), []),  # fabio's 2024 gift, but he gives again in 2027
        ({"first_time": True}, NEW_YEAR, ["elena"]),
        ({"first_time": True}, OLD_YEAR_EVE, ["anna", "bruno", "hugo"]),
        # years, campaign
        ({"gave_in_year": 2026}, NEW_YEAR, ["anna", "bruno", "dario", "hugo"]),
        ({"not_given_in_year": 2026}, NEW_YEAR, ["carla", "elena", "fabio", "gina"]),
        ({"gave_in_year": 2025, "not_given_in_year": 2026}, NEW_YEAR, ["carla"]),
        ({"campaign": "X"}, NEW_YEAR, ["anna", "elena"]),
        # plans
        ({"plan": Segment.Plan.ACTIVE}, NEW_YEAR, ["bruno", "dario"]),
        ({"plan": Segment.Plan.LAPSED}, NEW_YEAR, ["anna"]),
        # amounts: totals net of refunds, all time or in the chosen year
        ({"min_total_cents": 5000}, NEW_YEAR, ["anna", "bruno", "dario", "elena", "hugo"]),
        ({"min_total_cents": 5000, "max_total_cents": 6000}, NEW_YEAR, ["anna", "bruno", "hugo"]),
        ({"max_total_cents": 0}, NEW_YEAR, ["gina"]),
        (
            {"min_total_cents": 5000, "gave_in_year": 2026},
            NEW_YEAR,
            ["anna", "dario", "hugo"],
        ),
        # language and consent
        ({"language": "en"}, NEW_YEAR, ["elena"]),
        ({"consent": Segment.Consent.CONSENTED}, NEW_YEAR, ["elena"]),
        (
            {"consent": Segment.Consent.NOT_CONSENTED},
            NEW_YEAR,
            ["anna", "bruno", "carla", "dario", "fabio", "gina", "hugo"],
        ),
        # filters add up
        ({"lybunt": True, "plan": Segment.Plan.LAPSED}, NEW_YEAR, ["anna"]),
        ({"lybunt": True, "campaign": "X"}, NEW_YEAR, ["anna"]),
    ],
)
def test_members_match_the_hand_built_network(world, filters, today, expected):
    network, campaign, _ = world
    if filters.get("campaign") == "X":
        filters = {**filters, "campaign": campaign}
    assert names(members(segment(network, **filters), today=today)) == expected


def test_only_confirmed_consent_with_an_email_can_be_written_to(world):
    network, _, donors = world
    assert names(reachable(segment(network), today=NEW_YEAR)) == ["elena"]
    Donor.objects.filter(pk=donors["elena"].pk).update(email="")
    assert names(reachable(segment(network), today=NEW_YEAR)) == []


def test_another_networks_donors_are_never_members(world, demo):
    network, campaign, _ = world
    other = segment(demo["valle-serena"], campaign=campaign, gave_in_year=2026)
    assert "stranger" in names(members(other, today=NEW_YEAR))
    assert "anna" not in names(members(other, today=NEW_YEAR))
    mine = segment(network, campaign=campaign, gave_in_year=2026)
    assert names(members(mine, today=NEW_YEAR)) == ["anna"]
