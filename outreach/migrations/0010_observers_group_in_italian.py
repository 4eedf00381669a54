"""The observers' group is named in Italian, as every name the admin shows (Impostazioni →
Gruppi): "Osservatori"."""

from django.db import migrations

OLD, NEW = "Observers", "Osservatori"


def rename(old, new):
    def run(apps, schema_editor):
        Group = apps.get_model("auth.Group")
        if not Group.objects.filter(name=new).exists():
            Group.objects.filter(name=old).update(name=new)

    return run


class Migration(migrations.Migration):
    dependencies = [("outreach", "0009_delivery_attribution")]

    operations = [migrations.RunPython(rename(OLD, NEW), rename(NEW, OLD))]
