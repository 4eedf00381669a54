"""Wagtail's default workflow and task are created as "Moderators approval" (an English name
stored in the database: "Invia a Moderators approval" on an Italian admin). Names are content,
written in the site's language, Italian, like the pages they approve."""

from django.db import migrations

OLD = "Moderators approval"
WORKFLOW = "Approvazione dei moderatori"
TASK = "Approvazione dei moderatori"


def rename(apps, schema_editor):
    apps.get_model("wagtailcore", "Workflow").objects.filter(name=OLD).update(name=WORKFLOW)
    apps.get_model("wagtailcore", "Task").objects.filter(name=OLD).update(name=TASK)


def restore(apps, schema_editor):
    apps.get_model("wagtailcore", "Workflow").objects.filter(name=WORKFLOW).update(name=OLD)
    apps.get_model("wagtailcore", "Task").objects.filter(name=TASK).update(name=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_network_documents_on_private_storage"),
        ("wagtailcore", "__latest__"),
    ]

    operations = [migrations.RunPython(rename, restore)]
