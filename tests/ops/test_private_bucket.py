"""Private files on an S3-compatible bucket (django-storages), against a real S3 API (moto's
server mode): receipts and documents are stored there with a private ACL, nobody reads them
anonymously, and they leave only through the permission-checked views, which stream them."""

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from wagtail.documents import get_document_model

from crm.links import receipt_download_url

from .conftest import KEYS, REGION, make_receipt

ROOT = Path(__file__).resolve().parents[2]
TREASURER_A = "tesoreria-oltre-il-ponte"
TREASURER_B = "tesoreria-valle-serena"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


@pytest.fixture
def users(demo):
    return {user.username: user for user in get_user_model().objects.all()}


@pytest.fixture
def receipt(demo, private_bucket, django_capture_on_commit_callbacks):
    return make_receipt(demo["oltre-il-ponte"], capture=django_capture_on_commit_callbacks)


def body_of(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def object_url(bucket, name):
    return f"{bucket['endpoint']}/{bucket['bucket']}/{name}"


def test_a_receipt_pdf_is_stored_in_the_bucket_and_not_public(private_bucket, receipt):
    client, bucket = private_bucket["client"], private_bucket["bucket"]
    # then the PDF is an object of the bucket, byte for byte the one whose SHA-256 was recorded
    stored = client.get_object(Bucket=bucket, Key=receipt.pdf.name)["Body"].read()
    assert stored.startswith(b"%PDF")
    assert hashlib.sha256(stored).hexdigest() == receipt.pdf_sha256
    # and nothing of it is on the local folders (the public media nor the default storage)
    assert receipt.pdf.storage is storages["private"]
    assert not default_storage.exists(receipt.pdf.name)
    # and its ACL grants nobody but the owner: no public-read, no authenticated-users grant
    grants = client.get_object_acl(Bucket=bucket, Key=receipt.pdf.name)["Grants"]
    assert [g["Grantee"].get("URI") for g in grants if g["Grantee"]["Type"] == "Group"] == []
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    # and an anonymous GET on the object's address is refused
    anonymous = requests.get(object_url(private_bucket, receipt.pdf.name), timeout=10)
    assert anonymous.status_code == 403 and not anonymous.content.startswith(b"%PDF")


def test_an_object_made_public_would_be_readable(private_bucket):
    # the control of the test above: the same anonymous GET reads an object whose ACL is public
    client, bucket = private_bucket["client"], private_bucket["bucket"]
    client.put_object(Bucket=bucket, Key="probe.txt", Body=b"public", ACL="public-read")
    response = requests.get(object_url(private_bucket, "probe.txt"), timeout=10)
    assert response.status_code == 200 and response.content == b"public"


def test_the_treasurer_gets_the_pdf_streamed_through_the_checked_view(client, users, receipt):
    url = f"/admin/crm/receipts/{receipt.pk}/pdf/"
    # given the other network's treasurer: a 404, as if the receipt did not exist
    client.force_login(users[TREASURER_B])
    response = client.get(url)
    assert response.status_code == 404 and not body_of(response).startswith(b"%PDF")
    # given the receipt's own treasurer: the PDF itself, streamed by Trama (no redirect to the
    # bucket: the bucket's address and keys never reach the browser), not cached
    client.force_login(users[TREASURER_A])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Location" not in response and "no-store" in response["Cache-Control"]
    assert hashlib.sha256(body_of(response)).hexdigest() == receipt.pdf_sha256


def test_anonymous_people_are_sent_to_sign_in(client, receipt):
    response = client.get(f"/admin/crm/receipts/{receipt.pk}/pdf/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_donors_signed_link_streams_the_pdf_from_the_bucket(client, receipt):
    response = client.get(receipt_download_url(receipt).removeprefix(settings.SITE_URL))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(body_of(response)).hexdigest() == receipt.pdf_sha256
    # and a link not signed by us is a 404
    assert client.get("/crm/receipts/not-a-token/").status_code == 404


def test_a_tampered_object_in_the_bucket_is_not_served(client, users, private_bucket, receipt):
    # given someone with the bucket's keys replacing the PDF's bytes
    private_bucket["client"].put_object(
        Bucket=private_bucket["bucket"], Key=receipt.pdf.name, Body=b"%PDF-1.7 forged"
    )
    # when the treasurer downloads it
    client.force_login(users[TREASURER_A])
    client.raise_request_exception = False
    response = client.get(f"/admin/crm/receipts/{receipt.pk}/pdf/")
    # then the forged bytes are not served as the receipt: the treasurer is sent back to the
    # receipt's page and told to restore it from the backup
    assert response.status_code == 302 and b"forged" not in body_of(response)
    page = client.get(response["Location"])
    assert page.status_code == 200 and "backup" in page.content.decode()


def test_the_storage_never_hands_out_an_unsigned_or_lasting_link(private_bucket, receipt):
    # Trama streams; but were anything to ask the storage for a link, it would be signed and
    # expire after 5 minutes, as configured
    url = receipt.pdf.url
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url
    assert requests.get(url, timeout=10).content.startswith(b"%PDF")


def test_a_private_document_is_stored_in_the_bucket_and_served_only_to_its_network(
    client, users, demo, private_bucket
):
    # given a document of Oltre il Ponte's collection that no public page uses
    document = get_document_model().objects.create(
        title="Verbale riservato",
        file=ContentFile(b"verbale: riservato", name=f"verbale-{uuid.uuid4().hex[:8]}.txt"),
        collection=demo["oltre-il-ponte"].collection,
    )
    # then it is an object of the bucket that nobody reads anonymously
    key = document.file.name
    assert private_bucket["client"].get_object(Bucket=private_bucket["bucket"], Key=key)
    assert requests.get(object_url(private_bucket, key), timeout=10).status_code == 403
    # and Wagtail's serve view gives it to its network's communicator, streamed
    client.force_login(users["comunicazione-oltre-il-ponte"])
    response = client.get(document.url)
    assert response.status_code == 200 and body_of(response) == b"verbale: riservato"
    # and to nobody else: another network's people, anonymous people
    client.force_login(users[TREASURER_B])
    assert client.get(document.url).status_code == 404
    client.logout()
    assert client.get(document.url).status_code == 404


def test_a_process_started_with_the_bucket_settings_writes_there(private_bucket):
    # given a fresh process configured only by the environment variables of .env.example
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PRIVATE_")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "PRIVATE_STORAGE_BUCKET": private_bucket["bucket"],
        "PRIVATE_STORAGE_PREFIX": "trama",
        "PRIVATE_STORAGE_ENDPOINT_URL": private_bucket["endpoint"],
        "PRIVATE_STORAGE_REGION": REGION,
        "PRIVATE_STORAGE_ACCESS_KEY_ID": KEYS["access_key"],
        "PRIVATE_STORAGE_SECRET_ACCESS_KEY": KEYS["secret_key"],
    }
    code = (
        "import django; django.setup(); "
        "from django.core.files.base import ContentFile; "
        "from crm.models import Receipt; "
        "s = Receipt._meta.get_field('pdf').storage; "
        "print(type(s).__name__, s.save('receipts/probe.pdf', ContentFile(b'%PDF probe')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    # then the receipts' field writes to the bucket, under the prefix, privately
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "receipts/probe.pdf"]
    client, bucket = private_bucket["client"], private_bucket["bucket"]
    stored = client.get_object(Bucket=bucket, Key="trama/receipts/probe.pdf")["Body"].read()
    assert stored == b"%PDF probe"
    assert (
        requests.get(object_url(private_bucket, "trama/receipts/probe.pdf"), timeout=10).status_code
        == 403
    )
