# The Stripe event log, until now crm.StripeEvent: the same table, adopted by the giving app and
# renamed to its app's name; treasurers who could read it keep reading it.

import django.db.models.deletion
from django.db import migrations, models


def carry_treasurers_permission(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="campaigns", model="stripeevent")
    new, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="view_stripeevent",
        defaults={"name": "Can view Stripe event"},
    )
    old = Permission.objects.filter(
        content_type__app_label="crm", codename="view_stripeevent"
    ).first()
    if old is not None:
        for group in Group.objects.filter(permissions=old):
            group.permissions.add(new)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("crm", "0004_layers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StripeEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("event_id", models.CharField(max_length=255, unique=True)),
                        ("type", models.CharField(db_index=True, max_length=100)),
                        ("account", models.CharField(blank=True, max_length=64)),
                        ("payload", models.JSONField()),
                        (
                            "created",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="created at Stripe"
                            ),
                        ),
                        ("received_at", models.DateTimeField(auto_now_add=True)),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("pending", "Not applied yet"),
                                    ("applied", "Applied"),
                                    ("ignored", "Acknowledged, nothing to do"),
                                    ("failed", "Failed"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("error", models.TextField(blank=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        (
                            "network",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="stripe_events",
                                to="crm.network",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "Stripe event",
                        "verbose_name_plural": "Stripe events",
                        "ordering": ["-received_at"],
                        "db_table": "crm_stripeevent",
                    },
                ),
            ],
            database_operations=[],
        ),
        # Now under the giving app's name: campaigns_stripeevent.
        migrations.AlterModelTable(name="stripeevent", table=None),
        migrations.RunPython(carry_treasurers_permission, migrations.RunPython.noop),
    ]
