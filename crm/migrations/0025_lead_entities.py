"""Issuing entities (issue 26): each network gets its lead entity from its own legal fields,
and every receipt, receipt counter and gift recorded so far is pointed at it. Receipt numbers,
sequences, series and files are not touched: the lead entity's series goes on from the
network's counter. (Its own migration: PostgreSQL alters no table with row updates pending in
the same transaction.)"""

import django.db.models.deletion
from django.db import migrations, models

# The network's legal fields at this migration (the lead entity's), copied as they are.
LEGAL_FIELDS = (
    "legal_name",
    "codice_fiscale",
    "partita_iva",
    "entity_kind",
    "runts_number",
    "tax_regime",
    "street_address",
    "postal_code",
    "city",
    "province",
    "email",
    "phone",
    "signer_name",
    "signer_role",
    "logo_id",
    "receipt_series",
    "declared_income_cents",
)


def create_lead_entities(apps, schema_editor):
    """Each network's lead entity, and its rows pointed at it (idempotent)."""
    Network = apps.get_model("crm", "Network")
    IssuingEntity = apps.get_model("crm", "IssuingEntity")
    for network in Network.objects.order_by("pk"):
        entity = IssuingEntity.objects.filter(network=network, is_lead=True).first()
        if entity is None:
            entity = IssuingEntity.objects.create(
                network=network,
                is_lead=True,
                **{name: getattr(network, name) for name in LEGAL_FIELDS},
            )
        for model in ("Receipt", "ReceiptCounter", "Donation"):
            rows = apps.get_model("crm", model).objects.filter(network=network, entity=None)
            rows.update(entity=entity)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0024_issuing_entities"),
    ]

    operations = [
        migrations.RunPython(create_lead_entities, migrations.RunPython.noop),
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
