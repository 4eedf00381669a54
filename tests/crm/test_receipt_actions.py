"""Receipt actions from the admin: issue for a gift, void with a reason; never across networks.
A receipt without the donor data the law asks for is issued only when the treasurer confirms."""

from wagtail.models import ModelLogEntry

from crm.models import Donation, Donor, Receipt


def test_treasurer_issues_then_voids_a_receipt(client, users, rows):
    Donor.objects.filter(pk=rows["b"]["donor"].pk).update(
        street_address="Via Roma 1", postal_code="23900"
    )
    donation = Donation.objects.create(
        network=rows["b"]["donor"].network,
        donor=rows["b"]["donor"],
        amount_cents=5000,
        status="succeeded",
        method="bank_transfer",
        channel="offline",
    )
    # a gift already covered is refused with a message, not an error page
    covered = rows["b"]["donation"].pk
    client.force_login(users["tesoreria-valle-serena"])
    assert client.post(f"/admin/crm/donations/{covered}/issue-receipt/").status_code == 302
    client.force_login(users["tesoreria-valle-serena"])
    response = client.post(f"/admin/crm/donations/{donation.pk}/issue-receipt/")
    assert response.status_code == 302
    receipt = Receipt.objects.get(donations=donation)
    response = client.post(f"/admin/crm/receipts/{receipt.pk}/void/", {"reason": "wrong name"})
    receipt.refresh_from_db()
    assert response.status_code == 302 and receipt.status == "void"


def test_other_networks_treasurer_cannot_issue(client, users, rows):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.post(f"/admin/crm/donations/{rows['b']['donation'].pk}/issue-receipt/")
    assert response.status_code == 404
    assert Receipt.objects.filter(donations=rows["b"]["donation"]).count() == 1


def test_a_receipt_without_codice_fiscale_or_address_needs_a_confirmation(client, users, rows):
    # given a person with neither codice fiscale nor address
    bare = Donor.objects.create(
        network=rows["b"]["donor"].network, first_name="Nadia", last_name="Senzadati"
    )
    donation = Donation.objects.create(
        network=bare.network,
        donor=bare,
        amount_cents=5000,
        status="succeeded",
        method="bank_transfer",
        channel="offline",
    )
    url = f"/admin/crm/donations/{donation.pk}/issue-receipt/"
    client.force_login(users["tesoreria-valle-serena"])
    # when the treasurer opens "Issue receipt", it warns of what is missing
    page = client.get(url).content.decode()
    assert "lacks what a receipt needs: codice fiscale, address" in page
    assert 'name="confirm_missing"' in page
    # with a way to complete the donor and a way back to the gift
    assert f'href="/admin/crm/donors/edit/{bare.pk}/"' in page and "Complete the donor" in page
    assert f'href="/admin/crm/donations/inspect/{donation.pk}/"' in page and "Go back" in page
    # and issuing without confirming is refused, nothing issued
    refused = client.post(url, {"email": "0"})
    assert refused.status_code == 400 and not Receipt.objects.filter(donations=donation)
    assert "Tick the box to issue it without them" in refused.content.decode()
    # then confirmed, it is issued and the confirmation is in the receipt's history
    response = client.post(url, {"email": "0", "confirm_missing": "1"})
    assert response.status_code == 302
    receipt = Receipt.objects.get(donations=donation)
    entry = ModelLogEntry.objects.get(action="crm.receipt.issue", object_id=str(receipt.pk))
    assert entry.data["missing_data_confirmed"] == ["codice_fiscale", "address"]


def test_an_organisation_with_partita_iva_and_address_needs_no_confirmation(client, users, rows):
    firm = Donor.objects.create(
        network=rows["b"]["donor"].network,
        kind="organisation",
        organisation_name="Ditta Srl",
        partita_iva="02770930994",
        street_address="Via Po 2",
        postal_code="10100",
        city="Torino",
    )
    donation = Donation.objects.create(
        network=firm.network,
        donor=firm,
        amount_cents=5000,
        status="succeeded",
        method="bank_transfer",
        channel="offline",
    )
    client.force_login(users["tesoreria-valle-serena"])
    url = f"/admin/crm/donations/{donation.pk}/issue-receipt/"
    assert 'name="confirm_missing"' not in client.get(url).content.decode()
    assert client.post(url, {"email": "0"}).status_code == 302
    assert Receipt.objects.filter(donations=donation).exists()
