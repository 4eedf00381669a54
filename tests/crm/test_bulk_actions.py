"""Bulk actions on the gifts and receipts lists: each asks, acts, says what it did, and never
touches a row of another network (its ids are left out and change nothing). Issuing receipts in
bulk says who gets one and why, and by default only gifts whose donor asked."""

import io
import re
import zipfile

from django.core import mail
from wagtail.models import ModelLogEntry

from crm.models import Donation, Donor, Receipt
from crm.receipts import issue_receipt

GIFTS = "/admin/bulk/crm/donation/"
RECEIPTS = "/admin/bulk/crm/receipt/"


def gift(donor, amount_cents=5000, reference="", **fields):
    values = {"status": "succeeded", "method": "bank_transfer", "wants_receipt": True, **fields}
    return Donation.objects.create(
        network=donor.network,
        donor=donor,
        amount_cents=amount_cents,
        channel="offline",
        reference=reference,
        **values,
    )


def complete(donor):
    """The address a receipt needs (the fixture's donors have a codice fiscale and a city)."""
    donor.street_address, donor.postal_code = "Via Roma 1", "23900"
    donor.save()
    return donor


def ids(*objects):
    return "&".join(f"id={o.pk}" for o in objects)


def test_lists_show_the_tick_boxes_and_actions(client, users, rows):
    client.force_login(users["tesoreria-valle-serena"])
    page = client.get("/admin/crm/donations/").content.decode()
    assert "data-bulk-action-checkbox" in page and f"{GIFTS}issue_receipts/" in page
    page = client.get("/admin/crm/receipts/").content.decode()
    assert f"{RECEIPTS}void/" in page and f"{RECEIPTS}download/" in page


def test_issue_receipts_asks_then_issues_and_emails(
    client, users, rows, django_capture_on_commit_callbacks
):
    donor_b = complete(rows["b"]["donor"])
    gifts = [gift(donor_b, 1000), gift(donor_b, 2000)]
    covered = rows["b"]["donation"]
    secret = rows["a"]["donation"]
    client.force_login(users["tesoreria-valle-serena"])
    url = f"{GIFTS}issue_receipts/?{ids(*gifts, covered, secret)}&next=/admin/crm/donations/"
    # it asks first: the rows it acts on, the one of network A left out, nothing issued yet
    page = client.get(url).content.decode()
    assert "This acts on 3 selected rows" in page and "Zebedeo" not in page
    assert "1 selected row belongs to another network" in page
    assert Receipt.objects.filter(donations__in=gifts).count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "on"}, follow=True)
    text = response.content.decode()
    assert "2 receipts issued, 2 emailed; 1 gift already had one." in text
    assert "1 selected row of another network was left out." in text
    assert Receipt.objects.filter(donations__in=gifts, status="issued").count() == 2
    assert Receipt.objects.filter(donations=secret).count() == 1  # network A's own, unchanged
    assert sorted(m.to[0] for m in mail.outbox) == ["bortolo@example.org"] * 2


def test_issue_receipts_unticked_sends_nothing(client, users, rows):
    one = gift(complete(rows["b"]["donor"]))
    client.force_login(users["tesoreria-valle-serena"])
    response = client.post(f"{GIFTS}issue_receipts/?{ids(one)}", {}, follow=True)
    assert "1 receipt issued, 0 emailed." in response.content.decode()
    assert Receipt.objects.filter(donations=one).exists() and mail.outbox == []


def test_issue_receipts_says_who_gets_one_and_by_default_only_who_asked(
    client, users, rows, django_capture_on_commit_callbacks
):
    # given gifts of every kind, all selected with "select all"
    donor_b = complete(rows["b"]["donor"])
    asked = gift(donor_b, 1000)
    not_asked = gift(donor_b, 2000, wants_receipt=False)
    cash = gift(donor_b, 3000, method="cash")
    failed = gift(donor_b, 4000, status="failed")
    bare = Donor.objects.create(network=donor_b.network, last_name="Spoglio", email="s@example.org")
    incomplete = gift(bare, 5000)
    covered = rows["b"]["donation"]
    client.force_login(users["tesoreria-valle-serena"])
    url = f"{GIFTS}issue_receipts/?id=all&next=/admin/crm/donations/"
    # when the treasurer opens the confirmation, it says who gets one and why the others do not
    page = client.get(url).content.decode()
    assert "This acts on 6 selected rows" in page
    assert "1 gift will get a receipt" in page
    assert "1 gift is left out: the donor did not ask for a receipt" in page
    assert "1 gift is left out: the donor lacks what a receipt needs (codice fiscale, address)" in (
        page
    )
    assert "1 gift already has a receipt" in page
    assert "2 gifts cannot have one (paid in cash, not completed or without a donor)" in page
    assert 'name="include_not_asked"' in page and 'name="include_missing"' in page
    assert 'name="include_not_asked" id="id_include_not_asked" checked' not in page
    assert Receipt.objects.count() == 2  # the fixture's two, nothing issued by looking
    # and confirms as it comes: only the gift whose donor asked gets one, and its email
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "on"}, follow=True)
    text = response.content.decode()
    assert "1 receipt issued, 1 emailed" in text
    assert "1 gift left out: the donor did not ask" in text
    assert "1 gift left out: the donor lacks a codice fiscale or address" in text
    issued = Receipt.objects.filter(status="issued").exclude(donations__in=[covered])
    assert [list(r.donations.all()) for r in issued.filter(network=donor_b.network)] == [[asked]]
    for left in (not_asked, cash, failed, incomplete):
        assert not Receipt.objects.filter(donations=left).exists()
    assert [m.to for m in mail.outbox] == [["bortolo@example.org"]]


def test_issue_receipts_includes_the_others_only_when_ticked(
    client, users, rows, django_capture_on_commit_callbacks
):
    donor_b = complete(rows["b"]["donor"])
    not_asked = gift(donor_b, 2000, wants_receipt=False)
    bare = Donor.objects.create(network=donor_b.network, last_name="Spoglio")
    incomplete = gift(bare, 5000)
    client.force_login(users["tesoreria-valle-serena"])
    url = f"{GIFTS}issue_receipts/?{ids(not_asked, incomplete)}"
    # when the treasurer ticks "the others too" but not "without the data", only the first
    response = client.post(url, {"include_not_asked": "on"}, follow=True)
    assert "1 receipt issued, 0 emailed" in response.content.decode()
    assert Receipt.objects.filter(donations=not_asked).exists()
    assert not Receipt.objects.filter(donations=incomplete).exists()
    # and confirming the missing data issues it, the confirmation kept in its history
    response = client.post(url, {"include_missing": "on"}, follow=True)
    assert "1 receipt issued" in response.content.decode()
    receipt = Receipt.objects.get(donations=incomplete)
    entry = ModelLogEntry.objects.get(action="crm.receipt.issue", object_id=str(receipt.pk))
    assert entry.data["missing_data_confirmed"] == ["codice_fiscale", "address"]
    assert entry.user == users["tesoreria-valle-serena"]


def test_only_another_networks_ids_change_nothing(client, users, rows):
    client.force_login(users["tesoreria-valle-serena"])
    receipt_a = rows["a"]["receipt"]
    for action, data in (("void", {"reason": "x"}), ("email", {}), ("download", {})):
        response = client.post(f"{RECEIPTS}{action}/?{ids(receipt_a)}", data, follow=True)
        assert response.status_code == 200
        assert "Nothing selected that you may act on." in response.content.decode()
    response = client.post(f"{GIFTS}export/?{ids(rows['a']['donation'])}", {"format": "csv"})
    assert response.status_code == 302
    receipt_a.refresh_from_db()
    assert receipt_a.status == "issued" and receipt_a.emails.count() == 1


def test_void_with_a_reason(client, users, rows):
    donor_b = rows["b"]["donor"]
    new = issue_receipt([gift(donor_b)])
    old = rows["b"]["receipt"]
    client.force_login(users["tesoreria-valle-serena"])
    url = f"{RECEIPTS}void/?{ids(old, new, rows['a']['receipt'])}"
    assert 'name="reason"' in client.get(url).content.decode()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and Receipt.objects.filter(status="void").count() == 0
    response = client.post(url, {"reason": "wrong amount"}, follow=True)
    assert "2 receipts voided." in response.content.decode()
    assert set(Receipt.objects.filter(status="void").values_list("pk", flat=True)) == {
        old.pk,
        new.pk,
    }
    assert Receipt.objects.get(pk=new.pk).void_reason == "wrong amount"
    assert Receipt.objects.get(pk=rows["a"]["receipt"].pk).status == "issued"


def test_email_again_skips_void_receipts(client, users, rows, django_capture_on_commit_callbacks):
    donor_b = rows["b"]["donor"]
    void = issue_receipt([gift(donor_b)])
    void.status = "void"
    void.save()
    client.force_login(users["tesoreria-valle-serena"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{RECEIPTS}email/?{ids(rows['b']['receipt'], void)}", follow=True)
    assert "1 receipt will be emailed. 1 was not (void, or no email address)." in (
        response.content.decode()
    )
    assert rows["b"]["receipt"].emails.count() == 2 and void.emails.count() == 0


def test_export_selection_and_zip(client, users, rows, django_capture_on_commit_callbacks):
    donor_b = rows["b"]["donor"]
    chosen = gift(donor_b, 4242, reference="SCELTO")
    gift(donor_b, 999, reference="NON-SCELTO")
    client.force_login(users["tesoreria-valle-serena"])
    url = f"{GIFTS}export/?{ids(chosen, rows['a']['donation'])}"
    body = b"".join(client.post(url, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    assert "SCELTO" in body and "NON-SCELTO" not in body and "Zebedeo" not in body
    with django_capture_on_commit_callbacks(execute=True):
        receipt = issue_receipt([chosen])
    response = client.post(f"{RECEIPTS}download/?{ids(receipt, rows['a']['receipt'])}")
    # an Italian name that says what the file is (was `receipts-selection.zip`)
    assert re.search(
        r'filename="ricevute-selezionate-\d{4}-\d{2}-\d{2}\.zip"', response["Content-Disposition"]
    ), response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == 1 and receipt.number.replace("/", "-") in pdfs[0]
    assert "OP-2026" not in archive.read("index.csv").decode("utf-8-sig")


def test_select_all_follows_the_lists_search(client, users, rows):
    donor_b = complete(rows["b"]["donor"])
    found = gift(donor_b, reference="CRO-TROVAMI")
    other = gift(donor_b, reference="ALTRO")
    client.force_login(users["tesoreria-valle-serena"])
    url = f"{GIFTS}issue_receipts/?id=all&q=TROVAMI"
    assert "This acts on 1 selected row" in client.get(url).content.decode()
    client.post(url, {})
    assert Receipt.objects.filter(donations=found).exists()
    assert not Receipt.objects.filter(donations=other).exists()


def test_communicators_cannot_run_bulk_actions(client, users, rows):
    client.force_login(users["comunicazione-valle-serena"])
    response = client.post(f"{RECEIPTS}void/?{ids(rows['b']['receipt'])}", {"reason": "x"})
    assert response.status_code in (302, 403)
    assert Receipt.objects.get(pk=rows["b"]["receipt"].pk).status == "issued"
