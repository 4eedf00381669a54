"""A delivery's `?m=` attribution marker, apart from its token (the key of its unsubscribe and
preferences pages). Deliveries already sent keep their token as marker: their emails are out
with it in their links, and the gifts already made through them keep counting."""

from django.db import migrations, models
from django.db.models import F

import outreach.models


def same_as_token(apps, schema_editor):
    apps.get_model("outreach", "Delivery").objects.update(attribution=F("token"))


class Migration(migrations.Migration):
    # Rows updated, then the table altered: apart, or PostgreSQL may refuse the ALTER while the
    # update's deferred trigger events are pending.
    atomic = False
    dependencies = [("outreach", "0008_suppressions_move_to_crm")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="attribution",
            field=models.CharField(
                editable=False, max_length=32, null=True, verbose_name="attribution marker"
            ),
        ),
        migrations.RunPython(same_as_token, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="delivery",
            name="attribution",
            field=models.CharField(
                default=outreach.models.new_token,
                editable=False,
                max_length=32,
                unique=True,
                verbose_name="attribution marker",
            ),
        ),
    ]
