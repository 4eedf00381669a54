"""Matched campaigns: a funder pledges to match a campaign's gifts at a ratio, up to a cap,
between two dates. The matched amount comes from the gifts, to the cent (refunds reduce it, the
cap holds), is never money raised until the funder pays, and the funder's record shows what it
owes."""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from campaigns.matches import (
    MatchPledge,
    check_pledge,
    figures,
    matched_cents,
    record_match_payment,
)
from crm import gifts
from crm.models import Donation, Donor
from crm.offline import record_offline_gift

TODAY = timezone.localdate()


@pytest.fixture
def users(demo):
    return {u.username: u for u in get_user_model().objects.all()}


@pytest.fixture
def funder(campaign):
    return Donor.objects.create(
        network=campaign.network,
        kind=Donor.Kind.ORGANISATION,
        organisation_name="Fondazione Comunitaria del Lecchese",
        email="bandi@fondazione.example.org",
    )


@pytest.fixture
def donor(campaign):
    return Donor.objects.create(network=campaign.network, first_name="Luca", last_name="Neri")


def make_pledge(campaign, funder, **overrides):
    pledge = MatchPledge(
        campaign=campaign,
        funder=funder,
        ratio_percent=100,
        cap_cents=10_000,
        starts_on=TODAY - datetime.timedelta(days=10),
        ends_on=TODAY + datetime.timedelta(days=10),
    )
    for name, value in overrides.items():
        setattr(pledge, name, value)
    check_pledge(pledge)
    pledge.save()
    return pledge


def give(campaign, donor, cents, received_on=TODAY):
    return record_offline_gift(
        network=campaign.network,
        donor=donor,
        amount_cents=cents,
        received_on=received_on,
        method=Donation.Method.BANK_TRANSFER,
        campaign=campaign,
    )


def test_a_one_to_one_match_follows_the_gifts_to_the_cent(campaign, funder, donor):
    pledge = make_pledge(campaign, funder)
    give(campaign, donor, 2_501)
    give(campaign, donor, 1_234)
    assert matched_cents(pledge) == 3_735


def test_a_share_rounds_down_to_the_cent(campaign, funder, donor):
    pledge = make_pledge(campaign, funder, ratio_percent=50)
    give(campaign, donor, 2_501)  # half is 1.250,5 cents: the funder owes 12,50 €
    assert matched_cents(pledge) == 1_250


def test_refunds_reduce_the_match_and_the_cap_holds_to_the_cent(campaign, funder, donor):
    pledge = make_pledge(campaign, funder, cap_cents=10_000)
    big = give(campaign, donor, 9_000)
    give(campaign, donor, 1_500)
    assert matched_cents(pledge) == 10_000  # 105,00 € of gifts, capped at 100,00 €
    with transaction.atomic():
        gifts.record_refunded_total(gifts.lock_donation(pk=big.pk), 600)
    assert matched_cents(pledge) == 9_900  # 99,00 € kept: below the cap again
    with transaction.atomic():
        gifts.record_refunded_total(gifts.lock_donation(pk=big.pk), 9_000)
    assert matched_cents(pledge) == 1_500


def test_gifts_outside_the_period_and_the_funders_own_are_not_matched(campaign, funder, donor):
    pledge = make_pledge(campaign, funder)
    give(campaign, donor, 1_000, received_on=TODAY - datetime.timedelta(days=11))
    give(campaign, funder, 5_000)
    give(campaign, donor, 700)
    assert matched_cents(pledge) == 700


def test_the_match_is_never_raised_until_the_funder_pays(campaign, funder, donor):
    pledge = make_pledge(campaign, funder)
    give(campaign, donor, 4_000)
    raised = Donation.objects.filter(campaign=campaign).raised()
    numbers = figures(pledge)
    assert (numbers.matched_cents, numbers.paid_cents, numbers.owed_cents) == (4_000, 0, 4_000)

    payment = record_match_payment(pledge, amount_cents=2_500, received_on=TODAY)

    assert payment.donor == funder and payment.campaign_id == campaign.pk
    assert Donation.objects.filter(campaign=campaign).raised() == raised + 2_500
    numbers = figures(pledge)
    # the payment is money raised, not a gift to match
    assert (numbers.matched_cents, numbers.paid_cents, numbers.owed_cents) == (4_000, 2_500, 1_500)


def test_a_funder_must_be_an_organisation_of_the_campaigns_network(campaign, donor, demo):
    with pytest.raises(ValidationError) as caught:
        make_pledge(campaign, donor)
    assert "funder" in caught.value.message_dict
    elsewhere = Donor.objects.create(
        network=demo["valle-serena"], kind=Donor.Kind.ORGANISATION, organisation_name="Altrove"
    )
    with pytest.raises(ValidationError):
        make_pledge(campaign, elsewhere)
    assert not MatchPledge.objects.exists()


def test_the_page_the_report_and_the_funders_record_say_it_to_the_cent(
    client, users, campaign, funder, donor
):
    pledge = make_pledge(campaign, funder, cap_cents=500_000)
    give(campaign, donor, 123_456)
    big = give(campaign, donor, 10_001)
    with transaction.atomic():
        gifts.record_refunded_total(gifts.lock_donation(pk=big.pk), 1)
    record_match_payment(pledge, amount_cents=100_000, received_on=TODAY)

    # the page: who doubles the gifts and the matched total, apart from what was raised
    page = client.get(campaign.url).content.decode()
    assert "Raddoppiato da Fondazione Comunitaria del Lecchese" in page
    assert "€\xa01.334,56" in page  # 1.234,56 + 100,00
    assert "€\xa02.334,56" in page  # raised: the gifts and the funder's 1.000,00

    client.force_login(users["tesoreria-oltre-il-ponte"])
    # the report (CSV): matched, paid and owed
    export = client.get("/admin/crm/matches/?export=csv")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    (row,) = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    assert row[-3:] == ["1334,56", "1000,00", "334,56"]
    # the funder's record: what it owes
    record = client.get(reverse("crm_donor:inspect", args=[funder.pk])).content.decode()
    assert "Dovuto" in record and "€\xa0334,56" in record
    # the dashboard's campaigns: the matched amount, apart from what was raised
    dashboard = client.get("/admin/").content.decode()
    assert "€\xa01.334,56 raddoppiati dai finanziatori" in dashboard


def test_another_networks_treasurer_reaches_no_pledge(client, users, campaign, funder):
    pledge = make_pledge(campaign, funder)
    client.force_login(users["tesoreria-valle-serena"])
    for url in (
        reverse("campaigns_matchpledge:inspect", args=[pledge.pk]),
        reverse("campaigns_matchpledge:payment", args=[pledge.pk]),
    ):
        assert client.get(url).status_code in (403, 404)
        assert client.post(url, {"amount": "10", "received_on": "2026-01-01"}).status_code in (
            403,
            404,
        )
    assert not pledge.payments.exists()


def test_a_treasurer_sets_up_a_pledge_and_records_the_payment(client, users, campaign, funder):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.post(
        reverse("campaigns_matchpledge:add"),
        {
            "campaign": campaign.pk,
            "funder": funder.pk,
            "ratio_percent": "50",
            "cap_cents": "5.000",
            "starts_on": (TODAY - datetime.timedelta(days=1)).isoformat(),
            "ends_on": (TODAY + datetime.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    pledge = MatchPledge.objects.get()
    assert (pledge.network, pledge.ratio_percent, pledge.cap_cents) == (
        campaign.network,
        50,
        500_000,
    )
    response = client.post(
        reverse("campaigns_matchpledge:payment", args=[pledge.pk]),
        {"amount": "120,50", "received_on": TODAY.isoformat(), "method": "bank_transfer"},
    )
    assert response.status_code == 302
    assert figures(pledge).paid_cents == 12_050
    page = client.get(reverse("campaigns_matchpledge:inspect", args=[pledge.pk]))
    assert page.status_code == 200


def test_a_person_cannot_be_a_funder_in_the_admin(client, users, campaign, donor):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.post(
        reverse("campaigns_matchpledge:add"),
        {
            "campaign": campaign.pk,
            "funder": donor.pk,
            "ratio_percent": "100",
            "cap_cents": "100",
            "starts_on": TODAY.isoformat(),
            "ends_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 200 and not MatchPledge.objects.exists()
