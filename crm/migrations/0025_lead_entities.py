"""Issuing entities (issue 26): each network gets its lead entity from its own legal fields,
and every receipt, receipt counter and gift recorded so far is pointed at it. Receipt numbers,
sequences, series and files are not touched: the lead entity's series goes on from the
network's counter. (The rows alone: PostgreSQL alters no table with row changes pending in the
same transaction, so the schema that follows is 0026.)"""

from django.db import migrations

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
    ]
