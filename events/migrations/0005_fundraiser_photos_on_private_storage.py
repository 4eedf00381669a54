"""Personal pages' photos move to the private storage (crm.storage) under random names.

They were public files, `MEDIA_ROOT/fundraisers/<the name they were sent with>`, served at
/media/ from the moment the form was sent. Each photo is copied byte for byte to the private
storage as `fundraisers/<random>.<its real format>`, its row updated, then the public file
deleted. Files do not roll back: each page moves in its own transaction, and a rerun after a
crash skips rows already pointing at a private file. A photo on neither storage is left as it
is (logged). The reverse puts the files back on the public storage under their new names, so
the field's old storage finds them.
"""

import io
import logging
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import migrations, models, transaction

import crm.storage
import events.fundraiser_photos

logger = logging.getLogger(__name__)


def _move(apps, schema_editor, source, target, rename):
    Fundraiser = apps.get_model("events", "Fundraiser")
    using = schema_editor.connection.alias
    stored = Fundraiser.objects.using(using).exclude(photo="").only("pk", "photo")
    for page in stored.order_by("pk").iterator(chunk_size=200):
        old = page.photo.name
        if target.exists(old) and not source.exists(old):  # moved by an earlier run
            continue
        if not source.exists(old):
            logger.warning("personal page %s: its photo %s is on neither storage", page.pk, old)
            continue
        with source.open(old, "rb") as fh:
            data = fh.read()
        new = target.save(rename(old, data), ContentFile(data))
        with transaction.atomic(using=using):
            Fundraiser.objects.using(using).filter(pk=page.pk, photo=old).update(photo=new)
        source.delete(old)


def _random_name(old, data):
    extension = events.fundraiser_photos.image_extension(io.BytesIO(data))
    return f"fundraisers/{uuid.uuid4().hex}.{extension}"


def move_photos_to_private_storage(apps, schema_editor):
    public, private = storages["default"], crm.storage.private_storage()
    _move(apps, schema_editor, public, private, _random_name)


def move_photos_back_to_public_storage(apps, schema_editor):
    public, private = storages["default"], crm.storage.private_storage()
    _move(apps, schema_editor, private, public, lambda old, data: old)


class Migration(migrations.Migration):
    # Files do not roll back with a transaction: every page commits on its own (see above).
    atomic = False

    dependencies = [
        ("events", "0004_fundraiser_owner_told_public"),
    ]

    operations = [
        migrations.AlterField(
            model_name="fundraiser",
            name="photo",
            field=models.ImageField(
                blank=True,
                storage=crm.storage.private_storage,
                upload_to=events.fundraiser_photos.photo_name,
                verbose_name="photo",
            ),
        ),
        migrations.RunPython(move_photos_to_private_storage, move_photos_back_to_public_storage),
    ]
