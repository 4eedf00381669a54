"""Segment screens: a network's communicators and treasurers build, count and export its
segments; another network's people get 404 and change nothing; people of no network get 403."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from crm import extensions
from crm.models import Donation, Donor, Network
from outreach.models import Segment
from outreach.segments import members

COMMUNICATOR = "comunicazione-valle-serena"
TREASURER = "tesoreria-valle-serena"
STRANGER = "tesoreria-oltre-il-ponte"


@pytest.fixture
def users(demo):
    return {u.username: u for u in get_user_model().objects.all()}


@pytest.fixture
def valle(demo):
    network = demo["valle-serena"]
    donor = Donor.objects.create(
        network=network,
        first_name='=HYPERLINK("http://evil")',
        last_name="Formula",
        email="formula@example.org",
        newsletter=True,
        newsletter_confirmed_at=timezone.now(),
    )
    Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=123456,
        received_on=timezone.localdate(),
        status=Donation.Status.SUCCEEDED,
    )
    segment = Segment.objects.create(network=network, name="Big givers", min_total_cents=100000)
    return network, donor, segment


def read_csv(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.mark.parametrize("who", [COMMUNICATOR, TREASURER])
def test_the_networks_people_list_count_and_export_its_segments(client, users, valle, who):
    network, donor, segment = valle
    client.force_login(users[who])
    index = client.get(reverse("outreach_segments:index"))
    assert index.status_code == 200
    assert "Big givers" in index.text
    edit = client.get(reverse("outreach_segments:edit", args=[segment.pk]))
    assert edit.status_code == 200
    rows = read_csv(client.get(reverse("outreach_segments:export", args=[segment.pk])))
    assert rows[0] == [
        "Name",
        "Email",
        "Language",
        "Newsletter confirmed",
        "Total given",
        "Last gift",
    ]
    mine = [row for row in rows[1:] if row[1] == "formula@example.org"]
    assert mine == [
        [
            '\'=HYPERLINK("http://evil") Formula',
            "formula@example.org",
            "Italian",
            "Yes",
            "1234,56",
            timezone.localdate().strftime("%d/%m/%Y"),
        ]
    ]
    # every row is a member: a donor of this network who gave at least € 1.000
    assert (
        len(rows) - 1
        == Segment.objects.get(pk=segment.pk)
        .network.donors.filter(pk__in=members(segment).values("pk"))
        .count()
    )


def test_a_communicator_saves_a_segment_and_sees_the_live_count(client, users, valle):
    network, _, _ = valle
    client.force_login(users[COMMUNICATOR])
    data = {"network": network.pk, "name": "Confirmed", "consent": "consented"}
    counted = client.post(reverse("outreach_segments:count"), data)
    assert counted.status_code == 200
    consenting = Donor.objects.filter(
        network=network, newsletter=True, newsletter_confirmed_at__isnull=False
    ).count()
    assert counted.json()["count"] == consenting >= 1
    response = client.post(reverse("outreach_segments:add"), data)
    assert response.status_code == 302
    saved = Segment.objects.get(name="Confirmed")
    assert saved.network == network and saved.consent == "consented"


def test_bad_filters_get_a_clear_400_and_change_nothing(client, users, valle):
    network, _, _ = valle
    client.force_login(users[COMMUNICATOR])
    data = {
        "network": network.pk,
        "name": "Odd",
        "gave_in_year": "abc",
        "min_total_cents": "50",
        "max_total_cents": "10",
    }
    assert client.post(reverse("outreach_segments:add"), data).status_code == 400
    counted = client.post(reverse("outreach_segments:count"), data)
    assert counted.status_code == 400
    assert "max_total_cents" in counted.json()["errors"]
    assert not Segment.objects.filter(name="Odd").exists()


def test_another_networks_treasurer_gets_404_and_changes_nothing(client, users, valle):
    network, _, segment = valle
    client.force_login(users[STRANGER])
    for name in ("edit", "export", "delete"):
        assert (
            client.get(reverse(f"outreach_segments:{name}", args=[segment.pk])).status_code == 404
        )
    assert client.post(reverse("outreach_segments:delete", args=[segment.pk])).status_code == 404
    assert Segment.objects.filter(pk=segment.pk).exists()
    assert "Big givers" not in client.get(reverse("outreach_segments:index")).text
    # nor can they save a segment, or count donors, in a network that is not theirs
    data = {"network": network.pk, "name": "Theirs"}
    assert client.post(reverse("outreach_segments:add"), data).status_code == 400
    assert client.post(reverse("outreach_segments:count"), data).status_code == 400
    assert not Segment.objects.filter(name="Theirs").exists()


def test_people_of_no_network_are_turned_away(client, valle):
    # Wagtail answers a PermissionDenied in the admin with a redirect to the dashboard.
    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    nobody.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(nobody)
    for url in (
        reverse("outreach_segments:index"),
        reverse("outreach_segments:edit", args=[valle[2].pk]),
    ):
        response = client.get(url)
        assert (response.status_code, response.url) == (302, reverse("wagtailadmin_home"))


def test_the_networks_communicator_deletes_a_segment(client, users, valle):
    _, _, segment = valle
    client.force_login(users[COMMUNICATOR])
    assert client.post(reverse("outreach_segments:delete", args=[segment.pk])).status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_a_campaign_of_another_network_is_refused(client, users, valle, demo):
    network, _, _ = valle
    theirs = extensions.campaign_pages(Network.objects.filter(slug="oltre-il-ponte")).first()
    ours = extensions.campaign_pages(Network.objects.filter(pk=network.pk)).first()
    client.force_login(users["admin"])  # sees every campaign: the form still checks the network
    data = {"network": network.pk, "name": "Wrong campaign", "campaign": theirs.pk}
    response = client.post(reverse("outreach_segments:add"), data)
    assert response.status_code == 400
    assert "This campaign belongs to another network." in response.text
    assert not Segment.objects.filter(name="Wrong campaign").exists()
    data = {"network": network.pk, "name": "Right campaign", "campaign": ours.pk}
    assert client.post(reverse("outreach_segments:add"), data).status_code == 302
    assert Segment.objects.get(name="Right campaign").campaign_id == ours.pk
