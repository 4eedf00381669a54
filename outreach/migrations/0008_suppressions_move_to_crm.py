"""The suppressed addresses move to crm (one list for every email to donors): copied, then the
outreach table dropped."""

from django.db import migrations


def copy_to_crm(apps, schema_editor):
    Old = apps.get_model("outreach", "Suppression")
    New = apps.get_model("crm", "SuppressedAddress")
    for old in Old.objects.order_by("created_at").iterator():
        row, created = New.objects.get_or_create(
            network_id=old.network_id,
            email=old.email.strip().lower(),
            defaults={"reason": old.reason, "detail": old.detail, "source": "message"},
        )
        if created:  # keep when it happened
            New.objects.filter(pk=row.pk).update(created_at=old.created_at)


def copy_back(apps, schema_editor):
    Old = apps.get_model("outreach", "Suppression")
    New = apps.get_model("crm", "SuppressedAddress")
    for new in New.objects.iterator():
        Old.objects.get_or_create(
            network_id=new.network_id,
            email=new.email,
            defaults={"reason": new.reason, "detail": new.detail},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0016_suppressed_addresses"),
        ("outreach", "0007_message_heartbeat"),
    ]

    operations = [
        migrations.RunPython(copy_to_crm, copy_back),
        migrations.DeleteModel(name="Suppression"),
    ]
