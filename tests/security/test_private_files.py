"""Private files under attack: receipt PDFs, imports and exports are never public files.

Receipts live on the "private" storage (crm.storage), outside MEDIA_ROOT, under random names;
the signed link and the treasurer's admin view are their only ways out. /media/ is served here
as config/urls.py serves it with DEBUG on, so every guess at a receipt's path is a real request.
"""

import datetime
import hashlib
import importlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import re_path
from django.views.static import serve
from wagtail.models import Collection

from config import urls as project_urls
from crm import pdf
from crm.annual_statements import issue_statements, render_statements
from crm.links import DOWNLOAD_MAX_AGE, DOWNLOAD_SALT, PLAN_CANCEL_SALT, receipt_download_url
from crm.models import Donation, Donor, Receipt
from crm.receipts import issue_receipt

ROOT = Path(__file__).resolve().parents[2]
MOVE = importlib.import_module("crm.migrations.0006_receipt_pdfs_on_private_storage")
RANDOM_NAME = re.compile(r"^receipts/(\d{4})/([a-z0-9-]+)/[0-9a-f]{32}\.pdf$")
TREASURER_A = "tesoreria-oltre-il-ponte"
TREASURER_B = "tesoreria-valle-serena"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif", ".svg"}
IMPORT_URL = "/admin/crm/donations/import/"
IMPORT_CSV = (
    "Nome;Cognome;Email;Codice fiscale;Importo;Data;Metodo;Riferimento\n"
    "Ilaria;Importata;;;10;01/02/2026;bonifico;CRO-PRIVATO\n"
)


def _public_media(request, path):
    """What config/urls.py mounts at MEDIA_URL with DEBUG on (django.conf.urls.static.static),
    reading MEDIA_ROOT per request so a test can point it at its own folder."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


# This module is the URLconf of its tests: /media/ served, then the project's own URLs.
urlpatterns = [re_path(r"^media/(?P<path>.*)$", _public_media), *project_urls.urlpatterns]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def media_root(settings, tmp_path):
    """MEDIA_ROOT in a folder of this test's own, so a walk sees only what the test wrote."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def users(demo):
    return {user.username: user for user in get_user_model().objects.all()}


@pytest.fixture
def receipt(demo, django_capture_on_commit_callbacks):
    """An issued receipt of Oltre il Ponte, rendered and stored as the worker does it."""
    network = demo["oltre-il-ponte"]
    donor = Donor.objects.create(
        network=network,
        first_name="Zebedeo",
        last_name="Riservato",
        email="zebedeo@example.org",
        codice_fiscale="RSSMRA85T10A562S",
        street_address="Via Roma 10",
        postal_code="10121",
        city="Torino",
        province="TO",
    )
    gift = Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=5000,
        received_on=datetime.date(2026, 3, 14),
        status=Donation.Status.SUCCEEDED,
        method=Donation.Method.BANK_TRANSFER,
        channel=Donation.Channel.OFFLINE,
    )
    with django_capture_on_commit_callbacks(execute=True):
        issued = issue_receipt([gift])
    issued.refresh_from_db()
    assert issued.pdf_sha256
    return issued


def body_of(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def media_paths(receipt):
    """Every /media/ path an attacker would try for a receipt: its stored name, the old
    guessable name, and the way out of MEDIA_ROOT into the private folder."""
    private_folder = Path(settings.PRIVATE_ROOT).name
    number = receipt.number.replace("/", "-")
    return [
        f"/media/{receipt.pdf.name}",
        f"/media/receipts/{receipt.year}/{receipt.network.slug}-{number}.pdf",
        f"/media/receipts/{receipt.year}/{number}.pdf",
        f"/media/../{private_folder}/{receipt.pdf.name}",
        f"/media/%2e%2e/{private_folder}/{receipt.pdf.name}",
    ]


def files_under(folder):
    return sorted(p for p in Path(folder).rglob("*") if p.is_file())


# --- Where a receipt is stored ------------------------------------------------------------------


def test_a_receipt_pdf_is_private_and_its_name_cannot_be_guessed(receipt):
    # given an issued, rendered receipt
    stored = Path(receipt.pdf.path)
    # then its file is in the private folder, not under MEDIA_ROOT (nor on the default storage)
    assert stored.is_relative_to(Path(settings.PRIVATE_ROOT).resolve())
    assert not stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert not default_storage.exists(receipt.pdf.name)
    assert receipt.pdf.storage is storages["private"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == receipt.pdf_sha256
    # and its name is random: neither the number nor the sequence can lead to it
    match = RANDOM_NAME.match(receipt.pdf.name)
    assert match and match.groups() == (str(receipt.year), receipt.network.slug)
    assert str(receipt.sequence).zfill(5) not in receipt.pdf.name
    # and nothing can build a public link to it: the private storage has no URL
    with pytest.raises(NotImplementedError):
        receipt.pdf.url  # noqa: B018


def test_no_media_url_serves_a_receipt(media_root, client, receipt):
    # given a public image served at /media/ (the route works)
    default_storage.save("images/public-probe.txt", ContentFile(b"public"))
    assert client.get("/media/images/public-probe.txt").status_code == 200
    # when anyone asks /media/ for the receipt by its stored name, its old name or a way out
    for url in media_paths(receipt):
        response = client.get(url)
        # then nothing is served
        assert response.status_code in (400, 404), url
        assert not body_of(response).startswith(b"%PDF"), url
    default_storage.delete("images/public-probe.txt")


# --- The signed link ----------------------------------------------------------------------------


def test_the_signed_link_serves_the_pdf_named_after_its_number(client, receipt):
    # when the donor follows the link of their email
    response = client.get(receipt_download_url(receipt).removeprefix(settings.SITE_URL))
    # then the PDF comes as a download named after the receipt's number, as stored
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    number = receipt.number.replace("/", "-")
    assert response["Content-Disposition"] == f'attachment; filename="ricevuta-{number}.pdf"'
    assert hashlib.sha256(body_of(response)).hexdigest() == receipt.pdf_sha256
    assert response["X-Robots-Tag"] == "noindex"


class SignedLongAgo(signing.TimestampSigner):
    """A signer whose clock reads a year and a day ago: how a real expired link was made."""

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - DOWNLOAD_MAX_AGE - 86400)


def forged_tokens(receipt):
    payload = {"r": receipt.pk, "h": receipt.pdf_sha256[:16]}
    genuine = signing.dumps(payload, salt=DOWNLOAD_SALT)
    return {
        "garbage": "not-a-token",
        "tampered signature": genuine[:-3] + ("xyz" if not genuine.endswith("xyz") else "abc"),
        "another receipt's id": genuine.replace(genuine.split(":")[0], "e30"),
        "another salt (a plan's cancel link)": signing.dumps(payload, salt=PLAN_CANCEL_SALT),
        "another key": signing.dumps(payload, key="not-our-secret", salt=DOWNLOAD_SALT),
        "expired": SignedLongAgo(salt=DOWNLOAD_SALT).sign_object(payload),
        "another document's hash": signing.dumps(
            {"r": receipt.pk, "h": "0" * 16}, salt=DOWNLOAD_SALT
        ),
    }


def test_a_forged_or_expired_link_is_a_404(client, receipt):
    for why, token in forged_tokens(receipt).items():
        # when someone follows a link we did not sign, or signed too long ago
        response = client.get(f"/crm/receipts/{token}/")
        # then it is a 404 with no PDF in it
        assert response.status_code == 404, why
        assert not body_of(response).startswith(b"%PDF"), why


# --- The admin's checked view -------------------------------------------------------------------


def test_the_admin_pdf_view_serves_only_the_receipts_own_treasurers(client, users, receipt):
    url = f"/admin/crm/receipts/{receipt.pk}/pdf/"
    # given anyone not signed in: sent to sign in, no PDF
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # given the other network's treasurer: a 404, as if the receipt did not exist
    client.force_login(users[TREASURER_B])
    response = client.get(url)
    assert response.status_code == 404 and not body_of(response).startswith(b"%PDF")
    # given the receipt's own treasurer: the PDF itself, named after its number, not cached
    client.force_login(users[TREASURER_A])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    number = receipt.number.replace("/", "-")
    assert response["Content-Disposition"] == f'attachment; filename="ricevuta-{number}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert hashlib.sha256(body_of(response)).hexdigest() == receipt.pdf_sha256


# --- The move of existing files (crm/migrations/0006) -------------------------------------------


def test_the_migration_moves_a_public_receipt_to_private_storage(client, media_root, receipt):
    # given a receipt stored the old way: a public file with a guessable name, served at /media/
    data = pdf.render_receipt(receipt)
    sha256 = hashlib.sha256(data).hexdigest()
    number = receipt.number.replace("/", "-")
    old = default_storage.save(
        f"receipts/2026/{receipt.network.slug}-{number}.pdf", ContentFile(data)
    )
    Receipt.objects.filter(pk=receipt.pk).update(pdf=old, pdf_sha256=sha256)
    assert body_of(client.get(f"/media/{old}")) == data  # the leak this migration closes

    # when the data migration runs (with the project's apps, as `migrate` gives them)
    MOVE.move_receipt_pdfs_to_private_storage(apps, connection.schema_editor())

    # then the file is on the private storage under a random name, byte for byte the same
    receipt.refresh_from_db()
    assert RANDOM_NAME.match(receipt.pdf.name)
    assert receipt.pdf_sha256 == sha256
    with storages["private"].open(receipt.pdf.name, "rb") as moved:
        assert hashlib.sha256(moved.read()).hexdigest() == sha256
    # and the public file is gone: /media/ no longer serves it, MEDIA_ROOT holds no receipt
    assert not default_storage.exists(old)
    assert client.get(f"/media/{old}").status_code == 404
    assert [p for p in files_under(media_root) if p.suffix == ".pdf"] == []

    # when it runs again (a rerun after a crash): nothing moves twice
    name = receipt.pdf.name
    MOVE.move_receipt_pdfs_to_private_storage(apps, connection.schema_editor())
    receipt.refresh_from_db()
    assert receipt.pdf.name == name and storages["private"].exists(name)


# --- Imports and exports leave nothing under MEDIA_ROOT -----------------------------------------


def test_receipts_imports_and_exports_leave_nothing_under_media_root(
    media_root, client, users, receipt, settings, tmp_path, monkeypatch
):
    # given the system temp folder watched, and every upload spooled to a temp file on disk
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    assert settings.FILE_UPLOAD_TEMP_DIR is None  # uploads spool to the system temp folder
    client.force_login(users[TREASURER_A])

    # when the treasurer exports the year's receipts as a ZIP
    year = receipt.issued_at.year
    zip_response = client.get(
        f"/admin/crm/donations/export/receipts/?from={year - 1}-01-01&to={year + 1}-12-31"
    )
    assert zip_response.status_code == 200 and body_of(zip_response).startswith(b"PK")
    # and exports the donations as XLSX and CSV, and the yearly summary as XLSX
    for url in (
        "/admin/crm/donations/?export=xlsx",
        "/admin/crm/donations/?export=csv",
        f"/admin/crm/donations/export/summary/?year={year}&format=xlsx",
    ):
        response = client.get(url)
        assert response.status_code == 200 and body_of(response)  # read to the end: closed
    # and imports a file, dry run then write
    network = receipt.network.pk
    for confirm in ({}, {"confirm": "on"}):
        upload = SimpleUploadedFile("gifts.csv", IMPORT_CSV.encode(), content_type="text/csv")
        response = client.post(IMPORT_URL, {"network": network, "file": upload, **confirm})
        assert response.status_code in (200, 302)
    assert Donation.objects.filter(reference="CRO-PRIVATO").exists()

    # then MEDIA_ROOT holds no receipt, no import and no export: only the pages' images
    assert [p for p in files_under(media_root) if p.suffix not in IMAGE_SUFFIXES] == []
    for path in files_under(media_root):
        assert not path.read_bytes().startswith((b"%PDF", b"PK")), path
    # and no temporary file is left behind (the export's and the upload's are gone)
    assert files_under(temp) == []
    # and the receipt is where private files live
    assert Path(receipt.pdf.path).is_relative_to(Path(settings.PRIVATE_ROOT).resolve())


# --- Yearly statements rendered by forked workers ------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_statements_rendered_by_forked_workers_are_private(network_factory, settings):
    # (PostgreSQL: the forked children need committed rows, which a transactional test gives)
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    # given three donors' gifts of 2026 and their yearly statements, not yet rendered
    network = network_factory("rete-privata")
    for i in range(3):
        donor = Donor.objects.create(network=network, first_name="Anna", last_name=f"Privata{i}")
        Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=1000,
            received_on=datetime.date(2026, 5, 1),
            status=Donation.Status.SUCCEEDED,
        )
    assert issue_statements(2026, network, enqueue_render=False) == 3

    # when two forked worker processes render them
    assert render_statements(2026, network, workers=2) == []

    # then every statement is stored on the private storage under a random name
    for statement in Receipt.objects.filter(network=network):
        assert RANDOM_NAME.match(statement.pdf.name), statement.pdf.name
        assert storages["private"].exists(statement.pdf.name)
        assert not default_storage.exists(statement.pdf.name)


# --- Configuration ------------------------------------------------------------------------------


def settings_process(code, **env):
    """Run `code` in a fresh Python with the production settings and `env` (DEBUG on only to
    skip the production secrets, which are not the point here)."""
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PRIVATE_")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_private_root_inside_media_root_refuses_to_start(tmp_path):
    # given PRIVATE_ROOT configured inside the public MEDIA_ROOT
    result = settings_process(
        "print('started')",
        MEDIA_ROOT=str(tmp_path / "media"),
        PRIVATE_ROOT=str(tmp_path / "media" / "private"),
    )
    # then the process does not start, and says why
    assert result.returncode != 0 and "started" not in result.stdout
    assert "PRIVATE_ROOT must be outside" in result.stderr


def test_a_private_bucket_is_private_signed_and_never_overwritten():
    # given a bucket configured (nothing is sent to it: the storage connects on first use)
    result = settings_process(
        "from django.core.files.storage import storages; s = storages['private']; "
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.default_acl, "
        "s.querystring_auth, s.file_overwrite)",
        PRIVATE_STORAGE_BUCKET="trama-private",
        PRIVATE_STORAGE_ENDPOINT_URL="https://s3.example.org",
    )
    # then the private alias is that bucket: private ACL, signed URLs only, no overwrites
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "S3Storage",
        "trama-private",
        "https://s3.example.org",
        "private",
        "True",
        "False",
    ]


def test_by_default_private_files_are_a_folder_outside_media_root(tmp_path):
    result = settings_process(
        "from django.conf import settings; from django.core.files.storage import storages; "
        "s = storages['private']; print(type(s).__name__, s.location, settings.MEDIA_ROOT)",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    assert result.returncode == 0, result.stderr
    kind, location, media = result.stdout.split()
    assert kind == "PrivateFileSystemStorage"
    assert location == str(ROOT / "var" / "private")
    assert not Path(location).is_relative_to(media)
