"""A donor's page, data export, anonymisation, duplicates and merge; the dashboard."""

import json

from wagtail.models import ModelLogEntry

from crm.dashboard import figures, monthly_bars_svg
from crm.merging import duplicate_suggestions, merge_donors
from crm.models import Donor, Network
from crm.privacy import anonymise_donor

from .conftest import SECRET_EMAIL, SECRET_NAME


def test_donor_page_shows_the_timeline(client, users, rows):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    page = client.get(f"/admin/crm/donors/inspect/{rows['a']['donor'].pk}/").content.decode()
    assert "OP-2026/00001" in page and "12.345,67" in page and SECRET_EMAIL in page


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
