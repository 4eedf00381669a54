"""Private files (docs/design/domain.md, "Identity and trust"): receipts live on the
`STORAGES["private"]` alias (config/settings/i18n.py), a folder outside MEDIA_ROOT or a private
S3-compatible bucket, never on the public media storage. Nobody reaches them by URL: people
download through the signed link (`crm.receipt_views`) or the permission-checked admin view
(`crm.admin.receipts`).
"""

import uuid

from django.core.files.storage import FileSystemStorage, storages


def private_storage():
    """The private storage. A callable (not the instance) on `FileField(storage=...)`, so the
    migrations name this function and stay the same whichever backend settings choose."""
    return storages["private"]


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder with no public address: `url()` refuses, so no template, admin screen or export
    can link a private file by mistake (Django's base `Storage.url` does the same)."""

    def url(self, name):
        raise NotImplementedError("private files have no URL: serve them through a checked view")


def receipt_pdf_name(receipt, filename):
    """`receipts/<year>/<network>/<random>.pdf`: a name nobody can guess from a receipt's number
    (the number is what people see: the download's Content-Disposition carries it)."""
    network = receipt.network.slug or str(receipt.network_id)
    return f"receipts/{receipt.year}/{network}/{uuid.uuid4().hex}.pdf"


def drop_inherited_connections(storage):
    """In a forked child: forget the parent's connections of `storage` (an S3 client's socket
    pool is not fork-safe), so the child opens its own on first use. django-storages'
    `S3Storage` leaves them out of its pickled state; a folder has none to drop."""
    if hasattr(storage, "__setstate__"):
        storage.__setstate__(storage.__getstate__())


def in_kind_document_path(network):
    """`in-kind/<network>/<random>`: the file's own name is kept on the row, not in the path."""
    return f"in-kind/{network.slug or network.pk}/{uuid.uuid4().hex}"


def in_kind_document_name(document, filename):
    return in_kind_document_path(document.gift.network)
