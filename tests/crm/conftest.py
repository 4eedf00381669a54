"""CRM fixtures: rows of both demo networks and their people."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from banking.models import Pledge, Statement, StatementLine
from campaigns.matches import MatchPledge
from campaigns.models import CampaignPage, Payout, StripeEvent
from crm.models import (
    Donation,
    Donor,
    DonorEmail,
    ImportBatch,
    InKindGift,
    Receipt,
    RecurringPlan,
)
from permille.models import PerMilleGrant

# Strings that must never appear in a page or file served to the other network.
SECRET_NAME = "Zebedeo"
# Network A's relationship rows (an organisation, its call and ask, a task) carry this name
# instead: its communicators work them (README, "Who sees what"), but never its donors' data.
RELATIONS_SECRET = "Ildebrando"
SECRET_EMAIL = "zebedeo.segreto@example.org"


@pytest.fixture(autouse=True)
def english(settings):
    """CRM tests read the English msgids: the admin and messages in English (the Italian
    catalogue is tested where translation is the point, e.g. test_network.py)."""
    from django.urls import clear_url_caches
    from django.utils import translation

    # reverse() caches each language's URL prefix as it was when first asked ("" for the
    # default language): drop that cache on the way in and out, or /en/ leaks between tests.
    settings.LANGUAGE_CODE = "en"
    clear_url_caches()
    with translation.override("en"):
        yield
    clear_url_caches()


@pytest.fixture
def users(demo):
    model = get_user_model()
    return {u.username: u for u in model.objects.all()}


def make_rows(network, first_name, email, receipt_number):
    today = timezone.localdate()
    donor = Donor.objects.create(
        network=network,
        first_name=first_name,
        last_name="Rossi",
        email=email,
        codice_fiscale="RSSMRA85T10A562S",
        city="Lecco",
    )
    plan = RecurringPlan.objects.create(
        network=network,
        donor=donor,
        amount_cents=1000,
        status=RecurringPlan.Status.PAST_DUE,
        failures=2,
    )
    donation = Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=1234567,
        received_on=today,
        method=Donation.Method.BANK_TRANSFER,
        channel=Donation.Channel.OFFLINE,
        status=Donation.Status.SUCCEEDED,
        recurring_plan=plan,
    )
    receipt = Receipt.objects.create(
        network=network,
        year=today.year,
        sequence=90001,
        number=receipt_number,
        donor=donor,
        amount_cents=1234567,
        donor_snapshot={"name": f"{first_name} Rossi"},
        issued_at=timezone.now() - datetime.timedelta(hours=1),
    )
    receipt.donations.add(donation)
    DonorEmail.objects.create(receipt=receipt, to=email)
    event = StripeEvent.objects.create(
        event_id=f"evt_{first_name}",
        type="payment_intent.succeeded",
        network=network,
        payload={"data": {"object": {"receipt_email": email}}},
    )
    payout = Payout.objects.create(
        network=network, stripe_payout_id=f"po_{first_name}", amount_cents=1234567, status="paid"
    )
    payout.lines.create(
        balance_transaction_id=f"txn_{first_name}",
        kind="gift",
        amount_cents=1234567,
        net_cents=1234567,
        donation=donation,
    )
    batch = ImportBatch.objects.create(
        network=network,
        file_name=f"{first_name}.csv",
        sha256="0" * 64,
        status=ImportBatch.Status.APPLIED,
        table=[[1, ["Cognome", "Email"]], [2, [first_name, email]]],
        mapping={"0": "last_name", "1": "email"},
        row_count=1,
        result={"gifts": 1, "donors": 0, "gift_ids": [donation.pk], "donor_ids": []},
    )
    statement = Statement.objects.create(
        network=network,
        kind="camt053",
        sha256=f"{first_name:0>64}"[:64],
        statement_id=f"STMT-{first_name}",
        account="IT60X0542811101000000123456",
    )
    line = StatementLine.objects.create(
        statement=statement,
        network=network,
        account=statement.account,
        bank_reference=f"REF-{first_name}",
        booked_on=today,
        amount_cents=4200,
        kind="credit",
        status="review",
        name=f"{first_name} Rossi",
        remittance=f"Dono di {first_name} {email}",
    )
    bank_pledge = Pledge.objects.create(
        network=network,
        reference=f"RF00{abs(hash(first_name)) % 10**15:015d}",
        amount_cents=4200,
        donor_details={"first_name": first_name, "email": email},
        expires_on=today,
    )
    goods = InKindGift.objects.create(
        network=network, donor=donor, description=f"Goods of {first_name}", value_cents=1000
    )
    document = goods.documents.model(gift=goods, name=f"{first_name}.pdf")
    document.file.save("x", ContentFile(first_name.encode()), save=True)
    campaign = CampaignPage.objects.filter(path__startswith=network.page.path).first()
    funder = Donor.objects.create(
        network=network, kind=Donor.Kind.ORGANISATION, organisation_name=f"Fondazione {first_name}"
    )
    pledge = MatchPledge.objects.create(
        network=network,
        campaign=campaign,
        funder=funder,
        cap_cents=1000,
        starts_on=today,
        ends_on=today,
    )
    relations_name = RELATIONS_SECRET if first_name == SECRET_NAME else first_name
    relations = make_relations_rows(network, relations_name, donation)
    return {
        **relations,
        "fundraisingreport": make_fundraising_report(network, campaign, first_name),
        "statement": statement,
        "statementline": line,
        "pledge": bank_pledge,
        "matchpledge": pledge,
        "inkindgift": goods,
        "payout": payout,
        "donor": donor,
        "donation": donation,
        "importbatch": batch,
        "recurringplan": plan,
        "receipt": receipt,
        "stripeevent": event,
        # The 5 per mille screens (permille) name a year received by its pk.
        "permillegrant": PerMilleGrant.objects.create(
            network=network,
            reference_year=today.year - 2,
            amount_cents=1234567,
            received_on=today,
            report_note=f"5 per mille di {first_name}",
        ),
    }


def make_fundraising_report(network, campaign, first_name):
    """A public-fundraising report of the campaign (fundraising), with an expense and its
    private document."""
    from django.core.files.base import ContentFile

    from fundraising.models import Expense, FundraisingReport

    today = timezone.localdate()
    report = FundraisingReport.objects.create(
        network=network, campaign=campaign, title=campaign.title, starts_on=today, ends_on=today
    )
    expense = Expense(
        report=report,
        network=network,
        amount_cents=1000,
        spent_on=today,
        supplier=f"Tipografia {first_name}",
        category=Expense.Category.PROMOTION,
        document_name=f"{first_name}.pdf",
    )
    expense.document.save("x", ContentFile(b"%PDF-1.4 " + first_name.encode()), save=True)
    return report


def make_relations_rows(network, first_name, donation):
    """The relationship fundraising rows of a network (relations): one of each kind."""
    from django.core.files.base import ContentFile

    from relations import verbs
    from relations.models import (
        Call,
        CallDocument,
        Interaction,
        Organisation,
        Relationship,
        Report,
        Task,
        YearTarget,
    )

    today = timezone.localdate()
    owner = network.communicators_group.user_set.first()
    organisation = Organisation.objects.create(
        network=network, name=f"Fondazione {first_name}", donor=donation.donor
    )
    call = Call.objects.create(
        network=network,
        title=f"Bando {first_name}",
        funder=organisation,
        deadline=today,
        budget_cents=900,
        owner=owner,
    )
    document = CallDocument(call=call, title=f"Bando {first_name}.pdf")
    document.file.save("bando.pdf", ContentFile(b"%PDF-1.4 secret"), save=True)
    opportunity = verbs.opportunity_from_call(call)
    pledge = verbs.pledge(opportunity, amount_cents=900, instalments=3, first_due_on=today)
    return {
        "organisation": organisation,
        "relationship": Relationship.objects.create(
            network=network, person=donation.donor, organisation=organisation
        ),
        "interaction": Interaction.objects.create(
            network=network, organisation=organisation, happened_on=today, summary=first_name
        ),
        "task": Task.objects.create(network=network, title=first_name, due_on=today, owner=owner),
        "call": call,
        "calldocument": document,
        "opportunity": opportunity,
        "pledge": pledge,
        "instalment": pledge.instalments.first(),
        "report": Report.objects.create(network=network, title=first_name, call=call, due_on=today),
        "yeartarget": YearTarget.objects.create(network=network, year=today.year, amount_cents=1),
    }


@pytest.fixture
def rows(demo):
    """Network A (Oltre il Ponte) holds the secret donor; network B (Valle Serena) its own."""
    return {
        "a": make_rows(demo["oltre-il-ponte"], SECRET_NAME, SECRET_EMAIL, "OP-2026/00001"),
        "b": make_rows(demo["valle-serena"], "Bortolo", "bortolo@example.org", "2026/00001"),
    }
