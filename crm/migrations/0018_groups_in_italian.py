"""Each network's two groups are named in Italian, as every name the admin shows: "<rete> ·
comunicazione" and "<rete> · tesoreria" (were "· communicators" and "· treasurers"). A name a
superuser chose is left as it is."""

from django.db import migrations

NAMES = (
    ("communicators_group", " · communicators", " · comunicazione"),
    ("treasurers_group", " · treasurers", " · tesoreria"),
)


def rename(forwards):
    def run(apps, schema_editor):
        Network = apps.get_model("crm", "Network")
        Group = apps.get_model("auth.Group")
        for network in Network.objects.all():
            for field, english, italian in NAMES:
                old, new = (english, italian) if forwards else (italian, english)
                group_id = getattr(network, f"{field}_id")
                name = f"{network.name}{new}"
                if group_id and not Group.objects.filter(name=name).exists():
                    Group.objects.filter(pk=group_id, name=f"{network.name}{old}").update(name=name)

    return run


class Migration(migrations.Migration):
    dependencies = [("crm", "0017_recurringplan_link_version"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(rename(True), rename(False))]
