"""The relationship screens: who sees what (communicators and treasurers of a network), and
the other network sees none of it."""

import datetime
import subprocess

import pytest
from django.urls import reverse

from crm.models import Donation
from crm.money import format_amount
from crm.offline import record_offline_gift
from relations import verbs
from relations.models import Call, Opportunity

TODAY = datetime.date.today()
COMMUNICATOR_A, TREASURER_A = "comunicazione-oltre-il-ponte", "tesoreria-oltre-il-ponte"
COMMUNICATOR_B, TREASURER_B = "comunicazione-valle-serena", "tesoreria-valle-serena"


@pytest.fixture
def pledged(rel):
    a = rel["a"]
    ask = verbs.opportunity_from_call(a["call"])
    promise = verbs.pledge(ask, amount_cents=900_000, instalments=3, first_due_on=TODAY)
    return ask, promise


def test_a_communicator_records_a_call_and_pledges_it(client, users, rel, demo):
    client.force_login(users[COMMUNICATOR_A])
    foundation = rel["a"]["organisation"]
    response = client.post(
        reverse("relations_call:add"),
        {
            "network": demo["oltre-il-ponte"].pk,
            "title": "Bando nuovo",
            "funder": foundation.pk,
            "deadline": (TODAY + datetime.timedelta(days=9)).strftime("%d/%m/%Y"),
            "budget_cents": "12.500,50",
            "status": "open",
            "owner": users[COMMUNICATOR_A].pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    call = Call.objects.get(title="Bando nuovo")
    assert call.budget_cents == 1_250_050
    response = client.post(reverse("relations_call:to_opportunity", args=[call.pk]))
    ask = Opportunity.objects.get(call=call)
    assert response.status_code == 302
    response = client.post(
        reverse("relations_opportunity:pledge", args=[ask.pk]),
        {
            "kind": "grant",
            "amount": "12.500,50",
            "instalments": "3",
            "first_due_on": TODAY.isoformat(),
            "every_months": "6",
        },
    )
    assert response.status_code == 302
    assert ask.pledge.instalments.count() == 3
    page = client.get(reverse("relations_opportunity:inspect", args=[ask.pk])).content.decode()
    assert format_amount(416_683) in page and format_amount(416_684) in page
    # a bad schedule is a 400 that changes nothing
    again = client.post(
        reverse("relations_opportunity:pledge", args=[ask.pk]),
        {"kind": "grant", "amount": "1", "instalments": "2", "first_due_on": "x"},
    )
    assert again.status_code == 400
    assert ask.pledge.instalments.count() == 3


def test_a_funder_from_the_other_network_is_refused(client, users, rel, demo):
    client.force_login(users[COMMUNICATOR_A])
    response = client.post(
        reverse("relations_call:add"),
        {
            "network": demo["oltre-il-ponte"].pk,
            "title": "Bando furbo",
            "funder": rel["b"]["organisation"].pk,
            "deadline": TODAY.strftime("%d/%m/%Y"),
            "budget_cents": "1",
            "status": "open",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert not Call.objects.filter(title="Bando furbo").exists()


def test_only_treasurers_link_gifts_and_read_the_funder_report(client, users, pledged, rel):
    ask, promise = pledged
    first = promise.instalments.get(number=1)
    gift = record_offline_gift(
        network=ask.network,
        donor=rel["a"]["donor"],
        amount_cents=first.amount_cents,
        received_on=TODAY,
        method=Donation.Method.BANK_TRANSFER,
        confirm=False,
    )
    link = reverse("relations_opportunity:link_gift", args=[first.pk])
    report = reverse("relations_organisation:funder_report", args=[rel["a"]["organisation"].pk])
    client.force_login(users[COMMUNICATOR_A])
    # refused (Wagtail sends who lacks a permission home with a message), nothing linked
    assert client.get(link).status_code in (302, 403)
    assert client.post(link, {"donation": gift.pk}).status_code in (302, 403)
    assert client.get(report).status_code in (302, 403)
    first.refresh_from_db()
    assert first.donation is None
    inspect = client.get(reverse("relations_organisation:inspect", args=[ask.organisation_id]))
    assert "Relationship figures" not in inspect.content.decode()
    client.force_login(users[TREASURER_A])
    assert client.post(link, {"donation": gift.pk}).status_code == 302
    first.refresh_from_db()
    assert first.donation == gift
    page = client.get(report)
    assert page.status_code == 200
    assert format_amount(300_000) in page.content.decode()  # the gift's amount
    pdf = client.get(report + f"?start={TODAY.replace(month=1, day=1)}&end={TODAY}&format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.getvalue(), capture_output=True, check=True
    ).stdout.decode()
    assert "Fondazione Zebedeo" in text and format_amount(300_000).replace("\xa0", " ") in text
    bad = client.get(report + "?start=2026-12-31&end=2026-01-01")
    assert bad.status_code == 400


def test_the_dashboard_shows_due_instalments_and_my_tasks(client, users, pledged):
    from relations.models import Task

    ask, _promise = pledged
    owner = users[COMMUNICATOR_A]
    Task.objects.create(network=ask.network, title="Richiamare Ada", due_on=TODAY, owner=owner)
    client.force_login(owner)
    home = client.get("/admin/").content.decode()
    assert 'data-due="3"' in home and "Richiamare Ada" in home
    client.force_login(users[COMMUNICATOR_B])
    home = client.get("/admin/").content.decode()
    assert "Richiamare Ada" not in home and 'data-due="3"' not in home


def test_the_pipeline_counts_the_users_networks_only(client, users, pledged, rel):
    client.force_login(users[COMMUNICATOR_B])
    verbs.opportunity_from_call(rel["b"]["call"])
    pipeline = reverse("relations_opportunity:pipeline") + f"?year={rel['b']['call'].deadline.year}"
    page = client.get(pipeline).content.decode()
    assert format_amount(3_000_000) in page and format_amount(900_000) not in page
    client.force_login(users[COMMUNICATOR_A])
    page = client.get(pipeline).content.decode()
    assert format_amount(900_000) in page


@pytest.mark.parametrize("who", [COMMUNICATOR_B, TREASURER_B])
def test_the_other_network_sees_none_of_it(client, users, pledged, rel, who):
    ask, promise = pledged
    client.force_login(users[who])
    for name in ("organisation", "call", "opportunity", "relationship", "task", "report"):
        page = client.get(reverse(f"relations_{name}:index"))
        assert page.status_code == 200, name
        assert "Zebedeo" not in page.content.decode(), name
    for name, pk in (
        ("relations_organisation:inspect", rel["a"]["organisation"].pk),
        ("relations_call:inspect", rel["a"]["call"].pk),
        ("relations_opportunity:inspect", ask.pk),
        ("relations_opportunity:pledge", ask.pk),
    ):
        assert client.get(reverse(name, args=[pk])).status_code in (403, 404), name
    # the form's choices offer none of the other network's rows
    form = client.get(reverse("relations_call:add")).content.decode()
    assert "Zebedeo" not in form and "Bortolo" in form


def test_an_interaction_with_nobody_is_a_clear_error(client, users, demo):
    from relations.models import Interaction

    client.force_login(users[COMMUNICATOR_A])
    response = client.post(
        reverse("relations_interaction:add"),
        {
            "network": demo["oltre-il-ponte"].pk,
            "kind": "meeting",
            "happened_on": TODAY.strftime("%d/%m/%Y"),
            "summary": "Caffè",
        },
    )
    assert response.status_code == 200
    assert "Choose an organisation or a person." in response.content.decode()
    assert not Interaction.objects.exists()
