"""Every receipt change is in Wagtail's history log, and a voided receipt's signed link says it
is void (and leads to its replacement) while the stored PDF stays as issued."""

import hashlib

import pytest
from django.utils import translation
from wagtail.log_actions import registry
from wagtail.models import ModelLogEntry

from crm.links import receipt_download_url
from crm.outbox import queue_receipt_email
from crm.receipts import issue_receipt, reissue_receipt, void_receipt

pytestmark = pytest.mark.django_db


def path_of(url):
    return url.split("127.0.0.1:8000", 1)[1]


def test_issue_void_reissue_and_resend_are_in_the_history(
    donor_factory, gift_factory, admin_user, django_capture_on_commit_callbacks
):
    # given a receipt issued by a treasurer and emailed once
    donor = donor_factory(first_name="Mraio")
    with django_capture_on_commit_callbacks(execute=True):
        old = issue_receipt([gift_factory(donor)], issued_by=admin_user)
        queue_receipt_email(old)

    # when it is resent, then reissued with a correction, and the new one voided
    with django_capture_on_commit_callbacks(execute=True):
        queue_receipt_email(old, user=admin_user)
        new = reissue_receipt(old, reason="name misspelt", user=admin_user)
    void_receipt(new, reason="refund", user=admin_user)

    # then each change is a log entry on its receipt, with who and what
    old_log = [
        (e.action, e.user, e.data)
        for e in ModelLogEntry.objects.for_instance(old).order_by("timestamp", "pk")
    ]
    assert [a for a, _, _ in old_log] == [
        "crm.receipt.issue",
        "crm.receipt.resend",
        "crm.receipt.void",
        "crm.receipt.reissue",
    ]
    assert all(user == admin_user for _, user, _ in old_log)
    assert old_log[0][2]["amount_cents"] == 12050
    assert old_log[2][2]["reason"] == "name misspelt"
    assert old_log[3][2]["replaced_by"] == new.number
    new_log = ModelLogEntry.objects.for_instance(new).order_by("timestamp", "pk")
    assert [(e.action, e.data.get("replaces")) for e in new_log] == [
        ("crm.receipt.issue", old.number),
        ("crm.receipt.void", None),
    ]
    # and the actions have labels in the admin's history filters
    assert {"crm.receipt.issue", "crm.receipt.void", "crm.receipt.reissue"} <= {
        action for action, _ in registry.get_choices()
    }
    with translation.override("en"):
        assert str(new_log[1].message) == "Receipt voided"


def test_a_failed_issue_leaves_no_history(donor_factory, gift_factory):
    gift = gift_factory(donor_factory())
    issue_receipt([gift])
    with pytest.raises(ValueError):
        issue_receipt([gift])  # already covered: rolled back, nothing logged
    assert ModelLogEntry.objects.filter(action="crm.receipt.issue").count() == 1


def test_the_link_of_a_voided_receipt_says_void_and_leads_to_the_replacement(
    client, donor_factory, gift_factory, django_capture_on_commit_callbacks
):
    # given a receipt whose link was emailed, later reissued with a correction
    donor = donor_factory(first_name="Mraio")
    with django_capture_on_commit_callbacks(execute=True):
        old = issue_receipt([gift_factory(donor)])
    old.refresh_from_db()
    old_sha, old_link = old.pdf_sha256, path_of(receipt_download_url(old))
    donor.first_name = "Mario"
    donor.save()
    with django_capture_on_commit_callbacks(execute=True):
        new = reissue_receipt(old, reason="name misspelt <b>")

    # when the donor opens the old link
    response = client.get(old_link)

    # then they get a page saying it is void, why, and a link to the replacement, not the PDF
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    with translation.override("it"):
        void = translation.gettext("VOID")
    assert void in page and old.number in page
    assert "name misspelt &lt;b&gt;" in page
    new_link = path_of(receipt_download_url(new))
    assert new_link in page
    replacement = client.get(new_link)
    assert replacement["Content-Type"] == "application/pdf"
    body = b"".join(replacement.streaming_content)
    new.refresh_from_db()
    assert hashlib.sha256(body).hexdigest() == new.pdf_sha256
    # and the stored PDF of the void receipt is unchanged
    old.refresh_from_db()
    with old.pdf.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == old_sha == old.pdf_sha256


def test_a_refunded_receipt_link_says_void_without_a_replacement(
    client, donor_factory, gift_factory, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = issue_receipt([gift_factory(donor_factory(language="en"))])
    link = path_of(receipt_download_url(receipt))
    void_receipt(receipt, reason="charge.refunded")

    page = client.get(link).content.decode()
    assert "is no longer valid" in page and "No receipt replaces it" in page


@pytest.mark.parametrize(
    ("language", "words"),
    [("it", "Questo link è scaduto"), ("en", "This link has expired")],
)
def test_an_expired_receipt_link_says_so_and_leads_to_the_donors_page(
    client, donor_factory, gift_factory, django_capture_on_commit_callbacks, language, words
):
    # found walking the receipts: a link in a thank-you email stops working after a year, in
    # time for the tax return of a gift made in January, and said only "Page not found"
    from freezegun import freeze_time

    from crm import portal_links

    donor = donor_factory(language=language)
    with freeze_time("2025-01-10 10:00:00"):
        with django_capture_on_commit_callbacks(execute=True):
            receipt = issue_receipt([gift_factory(donor)])
        link = path_of(receipt_download_url(receipt))
    with freeze_time("2026-05-20 10:00:00"):
        response = client.get(link)
    assert response.status_code == 404  # as any link that no longer opens the PDF
    page = response.content.decode()
    assert words in page and not page.startswith("%PDF")
    assert portal_links.request_url(receipt.network, donor) in page
    assert client.get(link[:-6] + "XXXXX/").status_code == 404  # forged: nothing to say
