"""Issue 26: gifts in kind and yearly-statement runs name their issuing entity.

Existing gifts in kind get the entity that received them so far: the one of their in-kind
receipt if they have one (always the lead entity until now), else the lead entity. Existing
runs get the one entity all their statements belong to; a run with statements of several
entities, or none at all in a network with several entities, keeps no entity and goes on
covering every entity of its network, as it did. No receipt changes."""

import django.db.models.deletion
from django.db import migrations, models


def name_the_entities(apps, schema_editor):
    IssuingEntity = apps.get_model("crm", "IssuingEntity")
    InKindGift = apps.get_model("crm", "InKindGift")
    Receipt = apps.get_model("crm", "Receipt")
    StatementRun = apps.get_model("crm", "StatementRun")
    leads = dict(IssuingEntity.objects.filter(is_lead=True).values_list("network_id", "pk"))
    for gift in InKindGift.objects.filter(entity=None).iterator():
        receipted = (
            Receipt.objects.filter(in_kind_gift=gift)
            .order_by("pk")
            .values_list("entity_id", flat=True)
            .first()
        )
        entity_id = receipted or leads.get(gift.network_id)
        if entity_id:
            InKindGift.objects.filter(pk=gift.pk).update(entity_id=entity_id)
    for run in StatementRun.objects.filter(entity=None).iterator():
        entities = set(run.receipts.values_list("entity_id", flat=True))
        if not entities:
            in_network = IssuingEntity.objects.filter(network_id=run.network_id)
            entities = set(in_network.values_list("pk", flat=True))
        if len(entities) == 1:
            StatementRun.objects.filter(pk=run.pk).update(entity_id=entities.pop())


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0026_receipt_entity_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="inkindgift",
            name="entity",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="in_kind_gifts",
                to="crm.issuingentity",
                verbose_name="receiving entity",
            ),
        ),
        migrations.AddField(
            model_name="statementrun",
            name="entity",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="statement_runs",
                to="crm.issuingentity",
                verbose_name="issuing entity",
            ),
        ),
        migrations.RunPython(name_the_entities, migrations.RunPython.noop),
    ]
