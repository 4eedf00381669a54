"""Receipt PDFs move to the private storage (crm.storage) under random names.

They were public files: `MEDIA_ROOT/receipts/<year>/<network>-<number>.pdf`, served at /media/
to anyone who guessed the name. Each stored PDF is copied byte for byte to the private storage,
checked against its SHA-256, its row updated, then the public file deleted. Not atomic as a
whole: files cannot roll back, so each receipt moves in its own transaction and a rerun after a
crash picks up where it stopped (a row already pointing at a private file is skipped). The
reverse leaves the files where they are.
"""

import hashlib
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import migrations, models, transaction

import crm.storage

logger = logging.getLogger(__name__)


def move_receipt_pdfs_to_private_storage(apps, schema_editor):
    Receipt = apps.get_model("crm", "Receipt")
    using = schema_editor.connection.alias
    public = storages["default"]
    private = crm.storage.private_storage()
    stored = Receipt.objects.using(using).exclude(pdf="").select_related("network")
    for receipt in stored.order_by("pk").iterator(chunk_size=200):
        old = receipt.pdf.name
        if private.exists(old):  # moved by an earlier run, or stored privately from the start
            continue
        if not public.exists(old):
            logger.warning("receipt %s: its PDF %s is on neither storage", receipt.number, old)
            continue
        with public.open(old, "rb") as source:
            data = source.read()
        sha256 = hashlib.sha256(data).hexdigest()
        if receipt.pdf_sha256 and sha256 != receipt.pdf_sha256:
            # Moved as it is all the same: a damaged file is no reason to leave it public.
            logger.warning("receipt %s: %s does not match its SHA-256", receipt.number, old)
        new = private.save(crm.storage.receipt_pdf_name(receipt, old), ContentFile(data))
        with private.open(new, "rb") as copy:
            if hashlib.sha256(copy.read()).hexdigest() != sha256:
                private.delete(new)
                raise RuntimeError(f"receipt {receipt.number}: the private copy of {old} differs")
        with transaction.atomic(using=using):
            Receipt.objects.using(using).filter(pk=receipt.pk, pdf=old).update(pdf=new)
        public.delete(old)


class Migration(migrations.Migration):
    # Files do not roll back with a transaction: every receipt commits on its own (see above).
    atomic = False

    dependencies = [
        ("crm", "0005_cache_table"),
    ]

    operations = [
        migrations.AlterField(
            model_name="receipt",
            name="pdf",
            field=models.FileField(
                blank=True,
                storage=crm.storage.private_storage,
                upload_to=crm.storage.receipt_pdf_name,
                verbose_name="PDF",
            ),
        ),
        migrations.RunPython(move_receipt_pdfs_to_private_storage, migrations.RunPython.noop),
    ]
