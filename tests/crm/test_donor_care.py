"""A donor's page, data export, anonymisation, duplicates and merge; the dashboard."""

import json

from wagtail.models import ModelLogEntry

from crm.admin.dashboard import figures, monthly_bars_svg
from crm.merging import duplicate_suggestions, merge_donors
from crm.models import Donor, Network
from crm.money import format_amount
from crm.privacy import anonymise_donor

from .conftest import SECRET_EMAIL, SECRET_NAME


def test_donor_page_shows_the_timeline(client, users, rows):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    page = client.get(f"/admin/crm/donors/inspect/{rows['a']['donor'].pk}/").content.decode()
    assert "OP-2026/00001" in page and format_amount(1234567) in page and SECRET_EMAIL in page


def test_json_export_holds_gifts_and_consents(client, users, rows):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    data = json.loads(client.get(f"/admin/crm/donors/{rows['a']['donor'].pk}/export-json/").content)
    assert data["donor"]["email"] == SECRET_EMAIL
    assert data["donations"][0]["amount_cents"] == 1234567 and "consents" in data


def test_anonymising_keeps_receipts_and_says_so(client, users, rows):
    donor = rows["a"]["donor"]
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.post(f"/admin/crm/donors/{donor.pk}/anonymise/", follow=True)
    assert "ten years" in response.content.decode()
    donor.refresh_from_db()
    assert donor.first_name == "" and donor.email == "" and donor.anonymised_at
    assert donor.receipts.get().donor_snapshot["name"] == f"{SECRET_NAME} Rossi"
    assert ModelLogEntry.objects.filter(action="crm.anonymise", object_id=str(donor.pk)).exists()
    assert anonymise_donor(donor).anonymised_at == donor.anonymised_at  # twice is harmless


def test_duplicates_are_suggested_and_merged(rows):
    keep = rows["a"]["donor"]
    twin = Donor.objects.create(
        network=keep.network, first_name="Z", last_name="R", email=SECRET_EMAIL, phone="+39 333"
    )
    other_network_twin = Donor.objects.create(
        network=rows["b"]["donor"].network, email=SECRET_EMAIL, last_name="R"
    )
    pairs = duplicate_suggestions(Donor.objects.all())
    assert [(a.pk, b.pk) for a, b, _reason in pairs] == [(keep.pk, twin.pk)]
    merge_donors(keep, twin)
    twin.refresh_from_db()
    keep.refresh_from_db()
    assert twin.merged_into == keep and keep.phone == "+39 333"
    assert ModelLogEntry.objects.filter(action="crm.merge", object_id=str(twin.pk)).exists()
    assert other_network_twin.merged_into is None


def test_dashboard_figures_are_per_network(rows):
    mine = figures(Network.objects.filter(pk=rows["b"]["donor"].network_id))
    assert mine["this_year"] == 1234567
    assert [d.donor.first_name for d in mine["recent"]] == ["Bortolo"]
    assert [p.donor.first_name for p in mine["failing_plans"]] == ["Bortolo"]
    assert [r.number for r in mine["undelivered_receipts"]] == ["2026/00001"]
    svg = monthly_bars_svg(mine["monthly"])
    assert svg.startswith("<svg") and svg.count("<rect") == 12


def test_duplicates_page_lists_and_merges_only_own_pairs(client, users, rows):
    # given a twin of A's donor in A, and a look-alike of B's donor in B
    keep = rows["a"]["donor"]
    twin = Donor.objects.create(network=keep.network, first_name="Zeb", email=SECRET_EMAIL)
    Donor.objects.create(network=rows["b"]["donor"].network, email="bortolo@example.org")
    # when B's treasurer opens the duplicates page, they see only B's pair
    client.force_login(users["tesoreria-valle-serena"])
    page = client.get("/admin/crm/donors/duplicates/").content.decode()
    assert "bortolo@example.org" in page and SECRET_EMAIL not in page
    # and A's treasurer sees A's pair with a merge form, and merging from it works
    client.force_login(users["tesoreria-oltre-il-ponte"])
    page = client.get("/admin/crm/donors/duplicates/").content.decode()
    assert SECRET_EMAIL in page and "bortolo" not in page
    assert f'action="/admin/crm/donors/{keep.pk}/merge/"' in page
    response = client.post(f"/admin/crm/donors/{keep.pk}/merge/", {"duplicate": twin.pk})
    twin.refresh_from_db()
    assert response.status_code == 302 and twin.merged_into == keep
    assert "No likely duplicates" in client.get("/admin/crm/donors/duplicates/").content.decode()


def test_campaign_progress_is_one_query_for_all_campaigns(rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import CampaignPage
    from crm.models import Donation

    network = rows["a"]["donor"].network
    campaigns = list(CampaignPage.objects.filter(path__startswith=network.page.path))
    assert campaigns, "the demo seeds campaigns"
    networks = Network.objects.filter(pk=network.pk)
    with CaptureQueriesContext(connection) as before:
        figures(networks)
    # when every campaign receives gifts, and a sibling campaign is added
    for page in campaigns:
        Donation.objects.create(
            network=network,
            donor=rows["a"]["donor"],
            campaign=page,
            amount_cents=2500,
            status="succeeded",
            method="card",
        )
    extra = (
        campaigns[0]
        .get_parent()
        .add_child(instance=CampaignPage(title="Extra", slug="extra-campaign", goal_cents=10000))
    )
    Donation.objects.create(
        network=network,
        donor=rows["a"]["donor"],
        campaign=extra,
        amount_cents=5000,
        status="succeeded",
        method="card",
    )
    with CaptureQueriesContext(connection) as after:
        data = figures(networks)
    # then the query count does not grow, and each campaign shows its own total
    assert len(after.captured_queries) == len(before.captured_queries)
    progress = {c["title"]: c for c in data["campaigns"]}
    assert progress["Extra"]["raised"] == 5000 and progress["Extra"]["percent"] == 50
    assert progress[campaigns[0].title]["raised"] == 2500
