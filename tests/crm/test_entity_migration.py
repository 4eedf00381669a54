"""Issue 26: the migration that gives each network its lead entity keeps every receipt as it
was: number, sequence, series, file and hash, and the counter goes on from where it was."""

import pytest

from crm.models import Donation, IssuingEntity, Receipt, ReceiptCounter
from crm.receipts import issue_receipt
from tests.migration_steps import latest_migrations, migrate_to

BEFORE = [("crm", "0024_issuing_entities")]


@pytest.mark.django_db(transaction=True)
def test_existing_receipts_keep_their_numbers_and_files():
    latest = latest_migrations()
    try:
        # given a network and its receipts as they were before entities existed
        old = migrate_to(BEFORE)
        Network = old.get_model("crm", "Network")
        Donor = old.get_model("crm", "Donor")
        OldDonation = old.get_model("crm", "Donation")
        OldReceipt = old.get_model("crm", "Receipt")
        OldCounter = old.get_model("crm", "ReceiptCounter")
        network = Network.objects.create(
            name="Rete Storica",
            slug="rete-storica",
            legal_name="Associazione Storica ETS",
            codice_fiscale="92012340011",
            entity_kind="aps",
            street_address="Via Verdi 1",
            postal_code="20121",
            city="Milano",
            signer_name="Maria Rossi",
            receipt_series="RS",
            declared_income_cents=25_000_000,
        )
        donor = Donor.objects.create(network=network, first_name="Ada", last_name="Bianchi")
        before = []
        for sequence in (1, 2, 3):
            gift = OldDonation.objects.create(
                network=network,
                donor=donor,
                amount_cents=1000 * sequence,
                received_on=f"2025-03-0{sequence}",
                status="succeeded",
                method="card",
            )
            receipt = OldReceipt.objects.create(
                network=network,
                year=2025,
                sequence=sequence,
                number=f"RS-2025/{sequence:05d}",
                donor=donor,
                amount_cents=gift.amount_cents,
                pdf=f"receipts/2025/file-{sequence}.pdf",
                pdf_sha256=f"{sequence:064d}",
            )
            receipt.donations.add(gift)
            before.append((receipt.pk, receipt.number, receipt.sequence, receipt.pdf.name))
        OldCounter.objects.create(network=network, year=2025, last_sequence=3)
        # when the migrations run
        migrate_to(latest)
    finally:
        migrate_to(latest)
    # then the network has its lead entity, with the network's legal data
    entity = IssuingEntity.objects.get(network_id=network.pk)
    assert entity.is_lead and entity.legal_name == "Associazione Storica ETS"
    assert entity.receipt_series == "RS" and entity.declared_income_cents == 25_000_000
    # and every receipt is the lead entity's, with its number, sequence and file unchanged
    after = [
        (r.pk, r.number, r.sequence, r.pdf.name)
        for r in Receipt.objects.filter(network_id=network.pk).order_by("sequence")
    ]
    assert after == before
    assert set(Receipt.objects.values_list("entity_id", flat=True)) == {entity.pk}
    assert set(Donation.objects.values_list("entity_id", flat=True)) == {entity.pk}
    assert ReceiptCounter.objects.get(entity=entity, year=2025).last_sequence == 3
    # and the series goes on from where it was
    gift = Donation.objects.filter(network_id=network.pk).first()
    Receipt.objects.filter(donations=gift).update(status=Receipt.Status.VOID)
    assert issue_receipt([gift]).number == "RS-2025/00004"


@pytest.mark.django_db(transaction=True)
def test_existing_runs_and_goods_are_given_their_entity_and_keep_their_statements():
    from crm.models import InKindGift, StatementRun

    latest = latest_migrations()
    try:
        # given, before runs and goods named an entity, a network with a partner entity,
        # a run whose statements are all the lead's, one with statements of both entities,
        # one with none, and goods given
        old = migrate_to([("crm", "0026_receipt_entity_required")])
        Network = old.get_model("crm", "Network")
        Entity = old.get_model("crm", "IssuingEntity")
        Donor = old.get_model("crm", "Donor")
        OldReceipt = old.get_model("crm", "Receipt")
        OldRun = old.get_model("crm", "StatementRun")
        OldGoods = old.get_model("crm", "InKindGift")
        legal = {
            "codice_fiscale": "92012340011",
            "entity_kind": "aps",
            "street_address": "Via Verdi 1",
            "postal_code": "20121",
            "city": "Milano",
            "signer_name": "Maria Rossi",
        }
        network = Network.objects.create(
            name="Rete Invii", slug="rete-invii", legal_name="Rete Invii ETS", **legal
        )
        lead = Entity.objects.create(
            network=network, is_lead=True, legal_name="Rete Invii ETS", receipt_series="", **legal
        )
        partner = Entity.objects.create(
            network=network, legal_name="Coop Partner", receipt_series="CP", **legal
        )
        donor = Donor.objects.create(network=network, first_name="Ada", last_name="Bianchi")

        def statement(entity, sequence):
            return OldReceipt.objects.create(
                network=network,
                entity=entity,
                year=2025,
                kind="annual",
                sequence=sequence,
                number=f"{entity.receipt_series or 'X'}-2025/{sequence:05d}",
                donor=donor,
                amount_cents=1000,
            )

        lead_run = OldRun.objects.create(network=network, year=2025, status="done")
        lead_run.receipts.add(statement(lead, 1))
        mixed_run = OldRun.objects.create(network=network, year=2025, status="done")
        mixed_run.receipts.add(statement(lead, 2), statement(partner, 1))
        empty_run = OldRun.objects.create(network=network, year=2024, status="queued")
        goods = OldGoods.objects.create(
            network=network, donor=donor, description="Pasta", value_cents=5000
        )
        kept = {r.pk: sorted(r.receipts.values_list("pk", flat=True)) for r in OldRun.objects.all()}
        # when the migrations run
        migrate_to(latest)
    finally:
        migrate_to(latest)
    # then the lead's run is the lead's; the mixed one and the empty one of a network with
    # two entities go on covering the whole network; every run keeps its statements
    runs = StatementRun.objects.filter(network_id=network.pk)
    assert runs.get(pk=lead_run.pk).entity_id == lead.pk
    assert runs.get(pk=mixed_run.pk).entity_id is None
    assert runs.get(pk=empty_run.pk).entity_id is None
    assert {r.pk: sorted(r.receipts.values_list("pk", flat=True)) for r in runs} == kept
    # and the goods given are the lead entity's, who receipted goods until now
    assert InKindGift.objects.get(pk=goods.pk).entity_id == lead.pk
