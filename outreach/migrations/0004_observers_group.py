"""The observers' group: the funding foundation's people (or a network of networks), who see
the community of practice's figures and nothing of any network's donors. A superuser adds
users to it in Settings → Groups."""

from django.db import migrations

OBSERVERS = "Observers"


def create_observers_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Permission = apps.get_model("auth.Permission")
    Group = apps.get_model("auth.Group")
    membership_type, _ = ContentType.objects.get_or_create(
        app_label="outreach", model="communitymembership"
    )
    view_community, _ = Permission.objects.get_or_create(
        content_type=membership_type,
        codename="view_community",
        defaults={"name": "Can see the figures of the community of practice"},
    )
    access_admin = Permission.objects.get(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    group, _ = Group.objects.get_or_create(name=OBSERVERS)
    group.permissions.add(view_community, access_admin)


def remove_observers_group(apps, schema_editor):
    apps.get_model("auth.Group").objects.filter(name=OBSERVERS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0003_community"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_observers_group, remove_observers_group)]
