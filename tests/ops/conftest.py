"""Fixtures for running the service: a real S3 API (moto's server mode) and the private storage
on a bucket there, configured as production configures it (config.settings.s3_private_storage)."""

import datetime
import uuid

import boto3
import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.test import override_settings
from moto.server import ThreadedMotoServer
from wagtail.documents import get_document_model

from config.settings import s3_private_storage
from crm.models import Donation, Donor, Receipt
from crm.receipts import issue_receipt
from tests.worker.conftest import (  # noqa: F401  (the worker tests' fixtures)
    mail_dir,
    start_scheduler,
    tasks_backend,
    worker_env,
)

KEYS = {"access_key": "trama-test-key", "secret_key": "trama-test-secret"}
REGION = "eu-south-1"


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3 API over HTTP on a free local port (moto's server mode), one per test process."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )


def private_fields():
    """The FileFields on the private storage. Django evaluates a field's `storage` callable once,
    when the model class is built: a process started with PRIVATE_STORAGE_BUCKET set has the
    bucket there; a test that switches STORAGES mid-process must hand the fields the new one."""
    return [
        Receipt._meta.get_field("pdf"),
        get_document_model()._meta.get_field("file"),
    ]


@pytest.fixture
def private_bucket(s3_endpoint):
    """A fresh bucket (the operator creates it, as in production), and the "private" storage
    alias on it, built by the product's own settings function: only endpoint, bucket and keys
    differ from production."""
    bucket = f"trama-private-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    on_bucket = s3_private_storage(bucket, endpoint_url=s3_endpoint, region_name=REGION, **KEYS)
    with override_settings(STORAGES={**settings.STORAGES, "private": on_bucket}):
        for field in private_fields():
            field.storage = storages["private"]
        yield {"endpoint": s3_endpoint, "bucket": bucket, "client": client}
    # Back on the test settings' folder: the fields and the alias hold the same instance again.
    for field in private_fields():
        field.storage = storages["private"]


def make_receipt(network, last_name="Riservato", amount_cents=5000, capture=None):
    """An issued receipt for one bank transfer, rendered and stored as the worker does it."""
    donor = Donor.objects.create(
        network=network,
        first_name="Zebedeo",
        last_name=last_name,
        email=f"{last_name.lower()}@example.org",
        codice_fiscale="RSSMRA85T10A562S",
        street_address="Via Roma 10",
        postal_code="10121",
        city="Torino",
        province="TO",
    )
    gift = Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=amount_cents,
        received_on=datetime.date(2026, 3, 14),
        status=Donation.Status.SUCCEEDED,
        method=Donation.Method.BANK_TRANSFER,
        channel=Donation.Channel.OFFLINE,
    )
    with capture(execute=True):
        issued = issue_receipt([gift])
    issued.refresh_from_db()
    assert issued.pdf_sha256
    return issued
