"""Issuing entities (issue 26): every receipt and counter now has its entity (0025), so the
entity becomes required, and numbers are unique per entity and year."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0025_lead_entities"),
    ]

    operations = [
        migrations.AlterField(
            model_name="receipt",
            name="entity",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="receipts",
                to="crm.issuingentity",
                verbose_name="issuing entity",
            ),
        ),
        migrations.AlterField(
            model_name="receiptcounter",
            name="entity",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="crm.issuingentity",
                verbose_name="entity",
            ),
        ),
        migrations.AddConstraint(
            model_name="receipt",
            constraint=models.UniqueConstraint(
                fields=("entity", "year", "sequence"), name="receipt_number_unique_per_entity"
            ),
        ),
        migrations.AddConstraint(
            model_name="receiptcounter",
            constraint=models.UniqueConstraint(
                fields=("entity", "year"), name="one_counter_per_entity_year"
            ),
        ),
        migrations.AddConstraint(
            model_name="issuingentity",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_lead", True)),
                fields=("network",),
                name="one_lead_entity_per_network",
            ),
        ),
        migrations.AddConstraint(
            model_name="issuingentity",
            constraint=models.UniqueConstraint(
                fields=("network", "receipt_series"), name="one_receipt_series_per_entity"
            ),
        ),
    ]
