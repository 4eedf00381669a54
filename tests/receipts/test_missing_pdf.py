"""A receipt whose stored PDF is gone or altered (a lost disk, a restore that missed the private
files, a file changed by hand) is never served, and the person asking reads why and what to do,
in their language, instead of an error page; the operator finds it in the log."""

import logging

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from crm.links import receipt_download_url
from crm.receipt_files import ensure_receipt_pdf
from crm.receipts import issue_receipt

pytestmark = pytest.mark.django_db


def path_of(url):
    return url.split("127.0.0.1:8000", 1)[1]


@pytest.fixture
def receipt(donor_factory, gift_factory):
    return ensure_receipt_pdf(issue_receipt([gift_factory(donor_factory())]))


def _lose(receipt):
    receipt.pdf.storage.delete(receipt.pdf.name)


def _alter(receipt):
    storage, name = receipt.pdf.storage, receipt.pdf.name
    storage.delete(name)
    storage.save(name, ContentFile(b"%PDF-1.7 not the receipt as issued"))


@pytest.mark.parametrize("damage", [_lose, _alter])
def test_the_donors_link_says_the_receipt_cannot_be_downloaded_now(client, receipt, damage, caplog):
    damage(receipt)
    with caplog.at_level(logging.ERROR, logger="crm.receipt_files"):
        response = client.get(path_of(receipt_download_url(receipt)))
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "non si può scaricare" in response.content.decode()
    assert receipt.number in caplog.text


@pytest.mark.parametrize("damage", [_lose, _alter])
def test_the_treasurer_is_told_to_restore_it_from_the_backup(client, receipt, damage, admin_user):
    damage(receipt)
    client.force_login(admin_user)
    response = client.get(reverse("crm_receipt:pdf", args=[receipt.pk]), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "backup" in page and receipt.number in page
    assert response.redirect_chain[-1][0] == reverse("crm_receipt:inspect", args=[receipt.pk])
