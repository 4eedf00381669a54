"""Issue 26: two issuing entities in one network. Each numbers its receipts in its own series,
sends its own Agenzia Entrate data, and an entity's treasurer sees nothing of the other entity
(lists, pages, PDFs, exports), while the network's treasurer sees both."""

import datetime
import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.models import ModelLogEntry

from crm.models import Donation, Donor, IssuingEntity, Network
from crm.receipt_files import ensure_receipt_pdf
from crm.receipts import ReceiptError, issue_receipt
from crm.tax_data import tax_data
from tests.entities import partner_entity

from .test_agenzia import cf

pytestmark = pytest.mark.django_db

Y = 2025
LEAD_DONOR, PARTNER_DONOR = "Zebedeo", "Pontiere"


@pytest.fixture
def two_entities(network_factory):
    network = network_factory("rete-enti", receipt_series="RE")
    lead = network.lead_entity
    partner = partner_entity(network)
    users = get_user_model().objects
    network_treasurer = users.create_user("tesoriere-rete", password="x")
    network_treasurer.groups.add(network.treasurers_group)
    partner_treasurer = users.create_user("tesoriere-ponte", password="x")
    partner_treasurer.groups.add(partner.treasurers_group)

    def gift(name, code, entity, day, cents=5000):
        donor = Donor.objects.get_or_create(
            network=network,
            first_name=name,
            defaults={
                "last_name": "Test",
                "codice_fiscale": code,
                "street_address": "Via Roma 1",
                "city": "Milano",
            },
        )[0]
        return Donation.objects.create(
            network=network,
            donor=donor,
            entity=entity,
            amount_cents=cents,
            received_on=day,
            method=Donation.Method.BANK_TRANSFER,
            channel=Donation.Channel.OFFLINE,
            status=Donation.Status.SUCCEEDED,
        )

    day = datetime.date(Y, 5, 10)
    gifts = {
        "lead": [gift(LEAD_DONOR, cf(1), lead, day), gift(LEAD_DONOR, cf(1), lead, day, 700)],
        "partner": [
            gift(PARTNER_DONOR, cf(2), partner, day),
            gift(PARTNER_DONOR, cf(2), partner, day, 900),
        ],
    }
    return {
        "network": network,
        "lead": lead,
        "partner": partner,
        "gifts": gifts,
        "network_treasurer": network_treasurer,
        "partner_treasurer": partner_treasurer,
    }


def test_each_entity_numbers_its_receipts_in_its_own_series(two_entities):
    # given gifts received by the lead entity and by the partner, interleaved
    lead_gifts, partner_gifts = two_entities["gifts"]["lead"], two_entities["gifts"]["partner"]
    # when each gift is receipted in turn
    numbers = [
        issue_receipt([g]).number
        for g in (lead_gifts[0], partner_gifts[0], partner_gifts[1], lead_gifts[1])
    ]
    # then each entity's series runs from 1 without gaps, whatever the other did
    assert numbers == [f"RE-{Y}/00001", f"CP-{Y}/00001", f"CP-{Y}/00002", f"RE-{Y}/00002"]
    # and each receipt prints the legal data of the entity that received the gift
    partner_receipt = partner_gifts[0].receipts.get()
    assert partner_receipt.entity == two_entities["partner"]
    assert partner_receipt.entity_snapshot["legal_name"] == "Cooperativa sociale Il Ponte"
    assert partner_receipt.entity_snapshot["codice_fiscale"] == "01234560157"
    assert lead_gifts[0].receipts.get().entity_snapshot["legal_name"] == (
        two_entities["network"].legal_name
    )


def test_one_receipt_never_covers_gifts_of_two_entities(two_entities):
    # given one donor's gifts to both entities
    network = two_entities["network"]
    donor = two_entities["gifts"]["lead"][0].donor
    to_partner = Donation.objects.create(
        network=network,
        donor=donor,
        entity=two_entities["partner"],
        amount_cents=1000,
        received_on=datetime.date(Y, 6, 1),
        method=Donation.Method.CARD,
        status=Donation.Status.SUCCEEDED,
    )
    # when a receipt is asked for both: refused, nothing numbered
    with pytest.raises(ReceiptError):
        issue_receipt([two_entities["gifts"]["lead"][0], to_partner])
    # and the yearly statements give the donor one statement per entity
    from crm.annual_statements import issue_statements

    assert issue_statements(Y, network) == 3  # lead donor: lead + partner; partner donor: one
    statements = donor.receipts.order_by("number")
    assert [r.entity for r in statements] == [two_entities["partner"], two_entities["lead"]]


def test_the_agenzia_data_of_each_entity_are_its_own(two_entities):
    network = two_entities["network"]
    # when each entity's data of the year are drawn up
    lead_data = tax_data(network, Y, two_entities["lead"])
    partner_data = tax_data(network, Y, two_entities["partner"])
    # then each holds the gifts it received, and only those
    assert [(r.codice_fiscale, r.amount_cents) for r in lead_data.rows] == [(cf(1), 5700)]
    assert [(r.codice_fiscale, r.amount_cents) for r in partner_data.rows] == [(cf(2), 5900)]
    # and the obligation follows each entity's own declared income
    two_entities["partner"].declared_income_cents = 30_000_000
    two_entities["partner"].save()
    assert tax_data(network, Y, two_entities["partner"]).mandatory is True
    assert tax_data(network, Y, two_entities["lead"]).mandatory is None


def _receipts(two_entities):
    lead = issue_receipt(two_entities["gifts"]["lead"])
    partner = issue_receipt(two_entities["gifts"]["partner"])
    ensure_receipt_pdf(lead)
    ensure_receipt_pdf(partner)
    return lead, partner


def test_an_entity_treasurer_sees_nothing_of_the_other_entity(client, two_entities):
    # given a receipt of each entity
    lead_receipt, partner_receipt = _receipts(two_entities)
    lead, partner = two_entities["lead"], two_entities["partner"]
    network = two_entities["network"]
    # when the partner's treasurer looks around
    client.force_login(two_entities["partner_treasurer"])
    pages = {
        "receipts": reverse("crm_receipt:index"),
        "gifts": reverse("crm_donation:index"),
        "year": reverse("crm_yearly:index"),
        "agenzia": reverse("crm_yearly:entity_agenzia", args=[partner.pk, Y]),
        "summary": reverse("crm_donation:export_summary") + f"?year={Y}",
    }
    for name, url in pages.items():
        response = client.get(url)
        body = b"".join(response) if response.streaming else response.content
        # then their own entity's rows are there and the other entity's are not
        assert response.status_code == 200, name
        assert LEAD_DONOR.encode() not in body, name
        assert cf(1).encode() not in body, name
    receipts_page = client.get(pages["receipts"]).content.decode()
    assert partner_receipt.number in receipts_page
    assert PARTNER_DONOR in client.get(pages["gifts"]).content.decode()
    assert cf(2) in client.get(pages["agenzia"]).content.decode()
    # and every URL of the other entity's rows is a 404, files included
    for url in (
        reverse("crm_receipt:inspect", args=[lead_receipt.pk]),
        reverse("crm_receipt:pdf", args=[lead_receipt.pk]),
        reverse("crm_donation:inspect", args=[two_entities["gifts"]["lead"][0].pk]),
        reverse("crm_yearly:entity_agenzia", args=[lead.pk, Y]),
        reverse("crm_yearly:entity_agenzia_export", args=[lead.pk, Y, "gifts", "csv"]),
        reverse("crm_yearly:entity_agenzia_export", args=[lead.pk, Y, "all", "xlsx"]),
        reverse("crm_yearly:agenzia", args=[network.pk, Y]),
        reverse("crm_yearly:statements", args=[network.pk, Y]),
    ):
        assert client.get(url).status_code == 404, url
    # while their own receipt's PDF downloads
    assert client.get(reverse("crm_receipt:pdf", args=[partner_receipt.pk])).status_code == 200
    # and the receipts ZIP holds their entity's receipt only
    response = client.get(reverse("crm_donation:export_receipts") + f"?year={Y}")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert len(archive.namelist()) == 1
    # and the Agenzia file is their entity's
    response = client.get(
        reverse("crm_yearly:entity_agenzia_export", args=[partner.pk, Y, "gifts", "csv"])
    )
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert cf(2).encode() in body and cf(1).encode() not in body
    # and they cannot manage entities, nor reach the network's donors
    # (Wagtail answers a screen the user has no permission for with a redirect to the dashboard)
    assert client.get(reverse("crm_entity:index")).status_code in (302, 403)
    assert client.get(reverse("crm_donor:index")).status_code in (302, 403)


def test_the_network_treasurer_sees_both_entities(client, two_entities):
    lead_receipt, partner_receipt = _receipts(two_entities)
    client.force_login(two_entities["network_treasurer"])
    receipts_page = client.get(reverse("crm_receipt:index")).content.decode()
    assert lead_receipt.number in receipts_page and partner_receipt.number in receipts_page
    for entity, code in ((two_entities["lead"], cf(1)), (two_entities["partner"], cf(2))):
        response = client.get(reverse("crm_yearly:entity_agenzia", args=[entity.pk, Y]))
        assert response.status_code == 200
        assert code in response.content.decode()
    for receipt in (lead_receipt, partner_receipt):
        assert client.get(reverse("crm_receipt:pdf", args=[receipt.pk])).status_code == 200
    entities_page = client.get(reverse("crm_entity:index")).content.decode()
    assert "Cooperativa sociale Il Ponte" in entities_page


def test_the_network_treasurer_adds_an_entity_with_its_own_series(
    client, two_entities, network_factory
):
    network = two_entities["network"]
    other = network_factory("rete-altrui")
    client.force_login(two_entities["network_treasurer"])
    fields = {
        "network": network.pk,
        "legal_name": "Associazione La Rete APS",
        "codice_fiscale": "92012340011",
        "entity_kind": "aps",
        "tax_regime": "detraction_30",
        "street_address": "Via Po 2",
        "postal_code": "10100",
        "city": "Torino",
        "signer_name": "Eva Neri",
        "signer_role": "Presidente",
    }
    # without a series of its own: refused with a clear message, nothing saved
    response = client.post(reverse("crm_entity:add"), fields)
    assert response.status_code == 200
    assert "receipt prefix of its own" in response.content.decode()
    assert not IssuingEntity.objects.filter(legal_name="Associazione La Rete APS").exists()
    # in another network: refused, nothing saved
    response = client.post(
        reverse("crm_entity:add"), {**fields, "receipt_series": "LR", "network": other.pk}
    )
    assert response.status_code == 200
    assert not IssuingEntity.objects.filter(legal_name="Associazione La Rete APS").exists()
    # with one: saved, with a treasurers' group of its own
    response = client.post(reverse("crm_entity:add"), {**fields, "receipt_series": "LR"})
    assert response.status_code == 302
    entity = IssuingEntity.objects.get(legal_name="Associazione La Rete APS")
    assert entity.treasurers_group is not None and not entity.is_lead
    assert client.get(reverse("crm_entity:edit", args=[entity.pk])).status_code == 200


def test_the_lead_entity_follows_the_network_and_back(two_entities):
    network, lead = two_entities["network"], two_entities["lead"]
    network.signer_name = "Giulia Verdi"
    network.save()
    lead.refresh_from_db()
    assert lead.signer_name == "Giulia Verdi"
    lead.legal_name = "Associazione Rete Enti ETS"
    lead.save()
    network.refresh_from_db()
    assert network.legal_name == "Associazione Rete Enti ETS"
    assert IssuingEntity.objects.filter(network=network, is_lead=True).count() == 1


def test_an_offline_gift_is_recorded_for_the_entity_the_treasurer_chooses(
    client, two_entities, network_factory
):
    # given a donor of the network and another network's entity
    network, partner = two_entities["network"], two_entities["partner"]
    donor = two_entities["gifts"]["partner"][0].donor
    other = network_factory("rete-altra").lead_entity
    client.force_login(two_entities["network_treasurer"])
    fields = {
        "donor": donor.pk,
        "amount": "120,50",
        "received_on": f"{Y}-07-01",
        "method": "bank_transfer",
        "wants_receipt": "on",
    }
    # when the treasurer records a bank transfer received by the partner
    response = client.post(reverse("crm_donation:add"), {**fields, "entity": partner.pk})
    assert response.status_code == 302
    # then the gift is the partner's and its receipt is in the partner's series
    gift = Donation.objects.get(amount_cents=12050)
    assert gift.entity == partner
    assert gift.receipts.get().number == f"CP-{Y}/00001"
    # and another network's entity is not offered: refused, nothing recorded
    response = client.post(reverse("crm_donation:add"), {**fields, "entity": other.pk})
    assert response.status_code == 200
    assert Donation.objects.filter(network=network, amount_cents=12050).count() == 1


def test_the_network_treasurer_names_an_entitys_treasurers(client, two_entities):
    # given a communicator of the network, and someone of no network at all
    network, partner = two_entities["network"], two_entities["partner"]
    users = get_user_model().objects
    colleague = users.create_user("comunicatrice-rete", password="x")
    colleague.groups.add(network.communicators_group)
    stranger = users.create_user("estraneo", password="x")
    url = reverse("crm_entity:treasurers", args=[partner.pk])
    client.force_login(two_entities["network_treasurer"])
    # when the network's treasurer opens the partner's page
    page = client.get(reverse("crm_entity:inspect", args=[partner.pk])).content.decode()
    # then it leads to its treasurers, who are listed there, with the network's people to add
    assert url in page
    listing = client.get(url).content.decode()
    assert "tesoriere-ponte" in listing and "comunicatrice-rete" in listing
    assert "estraneo" not in listing
    # when they make the communicator a treasurer of the partner
    response = client.post(url, {"add": colleague.pk})
    assert response.status_code == 302
    # then the communicator reaches the partner's gifts
    assert partner.treasurers_group in colleague.groups.all()
    # and someone of no network cannot be added: refused, nothing changes
    response = client.post(url, {"add": stranger.pk})
    assert response.status_code == 400
    assert not stranger.groups.exists()
    # when they remove the partner's former treasurer
    response = client.post(url, {"remove": two_entities["partner_treasurer"].pk})
    assert response.status_code == 302
    assert partner.treasurers_group not in two_entities["partner_treasurer"].groups.all()
    # and both changes are in the entity's history, with who made them
    history = ModelLogEntry.objects.filter(object_id=str(partner.pk)).order_by("pk")
    assert [(e.action, e.data["treasurer"], e.user_id) for e in history] == [
        ("crm.entity.treasurer_added", "comunicatrice-rete", two_entities["network_treasurer"].pk),
        ("crm.entity.treasurer_removed", "tesoriere-ponte", two_entities["network_treasurer"].pk),
    ]


def test_an_entity_treasurer_cannot_name_treasurers(client, two_entities, network_factory):
    # given the partner's treasurer, and the treasurer of another network
    network, partner = two_entities["network"], two_entities["partner"]
    other = network_factory("rete-altrui")
    outsider = get_user_model().objects.create_user("tesoriere-altrui", password="x")
    outsider.groups.add(other.treasurers_group)
    url = reverse("crm_entity:treasurers", args=[partner.pk])
    communicator = get_user_model().objects.create_user("comunicatore", password="x")
    communicator.groups.add(network.communicators_group)
    # when the partner's treasurer tries to add someone, or the lead's group to themselves
    client.force_login(two_entities["partner_treasurer"])
    assert client.get(url).status_code in (302, 403)
    assert client.post(url, {"add": communicator.pk}).status_code in (302, 403)
    # and the other network's treasurer tries to add themselves
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"add": outsider.pk}).status_code == 404
    # then nobody was added
    assert list(partner.treasurers_group.user_set.all()) == [two_entities["partner_treasurer"]]


def test_the_lists_show_and_filter_the_entity_when_the_network_has_several(
    client, two_entities, network_factory
):
    # given receipts of both entities, and a gift recorded before entities existed (the lead's)
    lead_receipt, partner_receipt = _receipts(two_entities)
    old = two_entities["gifts"]["lead"][1]
    Donation.objects.filter(pk=old.pk).update(entity=None)
    client.force_login(two_entities["network_treasurer"])
    partner = two_entities["partner"]
    # when the network's treasurer opens the receipts and the gifts
    for name in ("crm_receipt:index", "crm_donation:index"):
        page = client.get(reverse(name)).content.decode()
        # then each row names its entity, and the list filters by entity
        assert "Cooperativa sociale Il Ponte" in page, name
        assert two_entities["lead"].legal_name in page, name
        assert 'name="entity"' in page, name
    # when they filter the gifts by the lead entity
    page = client.get(reverse("crm_donation:index"), {"entity": two_entities["lead"].pk})
    rows = page.context["object_list"]
    # then the lead's gifts are listed, the old one too, and none of the partner's
    assert {g.pk for g in rows} == {g.pk for g in two_entities["gifts"]["lead"]}
    page = client.get(reverse("crm_receipt:index"), {"entity": partner.pk})
    assert [r.pk for r in page.context["object_list"]] == [partner_receipt.pk]
    # and a network with one entity sees neither the column nor the filter
    lone = network_factory("rete-sola", receipt_series="RS")
    lone_treasurer = get_user_model().objects.create_user("tesoriere-solo", password="x")
    lone_treasurer.groups.add(lone.treasurers_group)
    client.force_login(lone_treasurer)
    for name in ("crm_receipt:index", "crm_donation:index"):
        assert 'name="entity"' not in client.get(reverse(name)).content.decode(), name


def test_a_gift_in_kind_is_recorded_and_receipted_by_the_entity_the_treasurer_chooses(
    client, two_entities, network_factory
):
    # given a donor of the network and another network's entity
    from crm.models import InKindGift

    network, lead, partner = (two_entities[k] for k in ("network", "lead", "partner"))
    donor = two_entities["gifts"]["partner"][0].donor
    other = network_factory("rete-altra").lead_entity
    client.force_login(two_entities["network_treasurer"])
    fields = {
        "donor": donor.pk,
        "description": "40 kg di pasta",
        "value": "120,50",
        "valuation": "normal_value",
        "received_on": f"{Y}-07-01",
        "wants_receipt": "on",
    }
    # when the treasurer records goods received by the partner
    response = client.post(reverse("crm_inkindgift:add"), {**fields, "entity": partner.pk})
    assert response.status_code == 302, response.content[:3000]
    # then the gift is the partner's and its receipt is in the partner's series, in its name
    gift = InKindGift.objects.get(value_cents=12050)
    assert gift.entity == partner
    receipt = gift.receipts.get()
    assert (receipt.entity, receipt.number) == (partner, f"CP-{Y}/00001")
    assert receipt.entity_snapshot["legal_name"] == partner.legal_name
    # and without a choice the goods are the lead entity's, in its series
    response = client.post(reverse("crm_inkindgift:add"), {**fields, "value": "7,00"})
    assert response.status_code == 302
    gift = InKindGift.objects.get(value_cents=700)
    assert gift.entity == lead
    assert gift.receipts.get().number == f"RE-{Y}/00001"
    # and another network's entity is not offered: refused, nothing recorded
    response = client.post(
        reverse("crm_inkindgift:add"), {**fields, "value": "9,00", "entity": other.pk}
    )
    assert response.status_code == 200
    assert not InKindGift.objects.filter(network=network, value_cents=900).exists()


def test_a_statement_run_covers_the_entity_the_network_treasurer_chooses(
    client, two_entities, django_capture_on_commit_callbacks
):
    # given a network with two entities, each with gifts of the year, statements for everyone
    from crm.models import Receipt, StatementRun
    from tests.pdfs import pdf_text

    network, lead, partner = (two_entities[k] for k in ("network", "lead", "partner"))
    Network.objects.filter(pk=network.pk).update(annual_statement_for_all=True)
    client.force_login(two_entities["network_treasurer"])
    # the network's own address asks them to choose the entity
    response = client.get(reverse("crm_yearly:statements", args=[network.pk, Y]))
    assert response.status_code == 302 and "#entities" in response.url
    index = client.get(reverse("crm_yearly:index"), {"year": Y}).content.decode()
    for entity in (lead, partner):
        assert reverse("crm_yearly:entity_statements", args=[entity.pk, Y]) in index
    # the partner's preview lists the partner's donor only
    url = reverse("crm_yearly:entity_statements", args=[partner.pk, Y])
    page = client.get(url).content.decode()
    assert PARTNER_DONOR in page and LEAD_DONOR not in page
    assert partner.legal_name in page
    # when the network's treasurer runs the partner's statements
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"send_email": ""})
    run = StatementRun.objects.get()
    assert response.status_code == 302 and run.entity == partner
    assert run.status == StatementRun.Status.DONE
    # then the run issued the partner's statement only, in its series, speaking for it
    statement = run.receipts.get()
    assert statement.number == f"CP-{Y}/00001" and statement.entity == partner
    assert Receipt.objects.filter(kind=Receipt.Kind.ANNUAL).count() == 1
    pdf = client.get(reverse("crm_receipt:pdf", args=[statement.pk]))
    text = pdf_text(b"".join(pdf.streaming_content))
    assert partner.legal_name in text and partner.signer_name in text
    assert lead.legal_name not in text
    # and the lead's gifts wait for the lead's own run
    assert (
        LEAD_DONOR
        in client.get(reverse("crm_yearly:entity_statements", args=[lead.pk, Y])).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("crm_yearly:entity_statements", args=[lead.pk, Y]), {})
    lead_run = StatementRun.objects.get(entity=lead)
    assert lead_run.receipts.get().number == f"RE-{Y}/00001"

    # the partner's treasurer sees the partner's run, never the lead's, and starts none
    client.force_login(two_entities["partner_treasurer"])
    assert client.get(url).status_code == 200
    assert client.get(reverse("crm_yearly:run", args=[run.pk])).status_code == 200
    index = client.get(reverse("crm_yearly:index")).content.decode()
    assert reverse("crm_yearly:run", args=[run.pk]) in index
    assert reverse("crm_yearly:run", args=[lead_run.pk]) not in index
    for address in (
        reverse("crm_yearly:run", args=[lead_run.pk]),
        reverse("crm_yearly:run_status", args=[lead_run.pk]),
        reverse("crm_yearly:run_zip", args=[lead_run.pk]),
        reverse("crm_yearly:entity_statements", args=[lead.pk, Y]),
    ):
        assert client.get(address).status_code == 404, address
    # (Wagtail answers a refused action with a redirect to the dashboard)
    assert client.post(url, {"send_email": "on"}).status_code in (302, 403)
    assert StatementRun.objects.count() == 2


def test_the_command_covers_one_entity_when_asked(two_entities, network_factory):
    # given a network with two entities, each with gifts of the year, statements for everyone
    from django.core.management import CommandError, call_command
    from django.utils import translation

    from crm.models import Receipt

    network, lead, partner = (two_entities[k] for k in ("network", "lead", "partner"))
    Network.objects.filter(pk=network.pk).update(annual_statement_for_all=True)
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO(), "verbosity": 0}
    # when the command runs for the partner only (named by its codice fiscale)
    call_command("issue_annual_statements", str(Y), "--entity", partner.codice_fiscale, **quiet)
    # then only the partner's statement is issued, in its series
    statements = Receipt.objects.filter(kind=Receipt.Kind.ANNUAL)
    assert [(r.entity, r.number) for r in statements] == [(partner, f"CP-{Y}/00001")]
    # and the lead's, named by its id (with its network), follows on a second run
    call_command(
        "issue_annual_statements", str(Y), "--network", network.slug, "--entity", lead.pk, **quiet
    )
    assert sorted(statements.values_list("number", flat=True)) == [
        f"CP-{Y}/00001",
        f"RE-{Y}/00001",
    ]
    # and an unknown entity, or one of another network, is refused with a translated message
    other = network_factory("rete-altra").lead_entity
    with translation.override("it"):
        with pytest.raises(CommandError, match="Nessun ente"):
            call_command("issue_annual_statements", str(Y), "--entity", "99999", **quiet)
        with pytest.raises(CommandError, match="di un'altra rete"):
            call_command(
                "issue_annual_statements",
                str(Y),
                "--network",
                network.slug,
                "--entity",
                str(other.pk),
                **quiet,
            )
    assert statements.all().count() == 2


def test_an_entity_treasurer_reads_its_own_gifts_in_kind_only(client, two_entities):
    # given goods received by each entity, each with a document and a receipt
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crm.in_kind import record_in_kind_gift
    from crm.models import InKindGift

    network, lead, partner = (two_entities[k] for k in ("network", "lead", "partner"))

    def goods(entity, what, cents):
        return record_in_kind_gift(
            network=network,
            donor=two_entities["gifts"]["partner" if entity == partner else "lead"][0].donor,
            description=what,
            value_cents=cents,
            valuation=InKindGift.Valuation.NORMAL_VALUE,
            received_on=datetime.date(Y, 6, 1),
            entity=entity,
            documents=[SimpleUploadedFile(f"{cents}.pdf", b"%PDF-1.4 declaration")],
            wants_receipt=True,
        )

    lead_goods = goods(lead, "Pallet di riso per la mensa", 31000)
    partner_goods = goods(partner, "Tre computer portatili", 45000)
    # when the partner's treasurer opens the gifts in kind
    client.force_login(two_entities["partner_treasurer"])
    response = client.get(reverse("crm_inkindgift:index"))
    # then their entity's goods are listed and the lead's are not
    assert response.status_code == 200
    page = response.content.decode()
    assert "Tre computer portatili" in page and "Pallet di riso" not in page
    # and the export holds theirs only
    export = client.get(reverse("crm_inkindgift:index") + "?export=csv")
    body = b"".join(export.streaming_content) if export.streaming else export.content
    assert "Tre computer portatili" in body.decode() and "Pallet di riso" not in body.decode()
    # and their own gift's page and document open, read-only (no receipt to issue, no add)
    inspect = client.get(reverse("crm_inkindgift:inspect", args=[partner_goods.pk]))
    assert inspect.status_code == 200
    assert reverse("crm_inkindgift:add") not in page
    document = client.get(reverse("crm_inkindgift:document", args=[partner_goods.pk]))
    assert document.status_code == 200
    receipt = partner_goods.receipts.get()
    assert receipt.number in inspect.content.decode()
    # and every address of the lead's goods is a 404
    for name in ("inspect", "document"):
        url = reverse(f"crm_inkindgift:{name}", args=[lead_goods.pk])
        assert client.get(url).status_code == 404, name
    # and recording or receipting goods is refused
    # (Wagtail answers a refused action with a redirect to the dashboard)
    assert client.get(reverse("crm_inkindgift:add")).status_code in (302, 403)
    response = client.post(reverse("crm_inkindgift:receipt", args=[partner_goods.pk]))
    assert response.status_code in (302, 403)
    assert partner_goods.receipts.count() == 1


def test_the_in_kind_list_shows_and_filters_the_entity_when_the_network_has_several(
    client, two_entities, network_factory
):
    from crm.in_kind import record_in_kind_gift
    from crm.models import InKindGift

    network, lead, partner = (two_entities[k] for k in ("network", "lead", "partner"))
    made = {}
    for entity in (lead, partner):
        made[entity.pk] = record_in_kind_gift(
            network=network,
            donor=two_entities["gifts"]["lead"][0].donor,
            description=f"Beni per {entity.legal_name}",
            value_cents=10000,
            valuation=InKindGift.Valuation.NORMAL_VALUE,
            received_on=datetime.date(Y, 6, 1),
            entity=entity,
        )
    # given goods recorded before entities existed (the lead's)
    old = made[lead.pk]
    InKindGift.objects.filter(pk=old.pk).update(entity=None)
    client.force_login(two_entities["network_treasurer"])
    # when the network's treasurer opens the gifts in kind
    page = client.get(reverse("crm_inkindgift:index")).content.decode()
    # then each row names its entity and the list filters by entity
    assert "Cooperativa sociale Il Ponte" in page.replace("Beni per Cooperativa", "")
    assert lead.legal_name in page.replace(f"Beni per {lead.legal_name}", "")
    assert 'name="entity"' in page
    rows = client.get(reverse("crm_inkindgift:index"), {"entity": lead.pk}).context["object_list"]
    assert [g.pk for g in rows] == [old.pk]
    rows = client.get(reverse("crm_inkindgift:index"), {"entity": partner.pk})
    assert [g.pk for g in rows.context["object_list"]] == [made[partner.pk].pk]
    # and a network with one entity sees neither the column nor the filter
    lone = network_factory("rete-sola", receipt_series="RS")
    lone_treasurer = get_user_model().objects.create_user("tesoriere-solo", password="x")
    lone_treasurer.groups.add(lone.treasurers_group)
    client.force_login(lone_treasurer)
    assert 'name="entity"' not in client.get(reverse("crm_inkindgift:index")).content.decode()
