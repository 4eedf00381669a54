"""The tax sentences on the receipt, read back from the PDF, for each kind of issuing entity,
kind of donor and payment method (art. 83 D.Lgs. 117/2017): natural persons get the 30%
detraction (35% to an ODV) or instead the 10% deduction; companies and other organisations get
the deduction only (c.2); cash never gives a benefit."""

import datetime

import pytest
from django.utils import translation

from crm.models import Donation, Donor
from crm.pdf import render_receipt
from crm.receipts import issue_receipt
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db

DET30 = (
    "Donations paid by traceable means (bank, post office, card, other traceable systems) give "
    "a tax detraction of 30% under art. 83 c.1 D.Lgs. 117/2017, up to €30,000 per year."
)
DET35 = (
    "Donations paid by traceable means to an organizzazione di volontariato give a tax "
    "detraction of 35% under art. 83 c.1 D.Lgs. 117/2017, up to €30,000 per year."
)
DED = (
    "Donations paid by traceable means are deductible from the donor's total net income up to "
    "10% of declared income under art. 83 c.2 D.Lgs. 117/2017."
)
DED_ORG = (
    "The donor is a company or other organisation: donations paid by traceable means are "
    "deductible from its total net income up to 10% of declared income under art. 83 c.2 "
    "D.Lgs. 117/2017. The detraction of art. 83 c.1 is for natural persons only."
)
CHOICE = (
    "Instead of the detraction, a natural person may deduct these donations from total net "
    "income up to 10% of declared income (art. 83 c.2 D.Lgs. 117/2017)."
)
NO_CUMULATION = (
    "The donor may not claim both the detraction and the deduction for the same donation "
    "(art. 83 c.5 D.Lgs. 117/2017)."
)
NONE = "These donations give no tax benefit."
CASH = (
    "Gifts paid in cash give no tax benefit (art. 83 c.1 D.Lgs. 117/2017 requires traceable "
    "payment)."
)
ALL = (DET30, DET35, DED, DED_ORG, CHOICE, NO_CUMULATION, NONE, CASH)

ENTITIES = {
    "aps": ("aps", "detraction_30"),
    "odv": ("odv", "detraction_35"),
    "odv_set_to_30": ("odv", "detraction_30"),  # an ODV is always 35%
    "deduction_only": ("fondazione", "deduction_10"),
    "no_benefit": ("ente_pubblico", "none"),
}
DONORS = {
    "person": {"kind": Donor.Kind.PERSON, "codice_fiscale": "RSSMRA85T10A562S"},
    "company": {
        "kind": Donor.Kind.ORGANISATION,
        "organisation_name": "Officine Bruno S.r.l.",
        "codice_fiscale": "",
        "partita_iva": "02770930994",
    },
    # Recorded as a person, but only a partita IVA: a company for tax purposes.
    "partita_iva_only": {"kind": Donor.Kind.PERSON, "partita_iva": "02770930994"},
}

CASES = [
    # entity, donor, method, sentences expected (every other one must be absent)
    ("aps", "person", "card", {DET30, CHOICE, NO_CUMULATION}),
    ("aps", "person", "bank_transfer", {DET30, CHOICE, NO_CUMULATION}),
    ("aps", "person", "cash", {CASH}),
    ("aps", "company", "card", {DED_ORG}),
    ("aps", "company", "bank_transfer", {DED_ORG}),
    ("aps", "company", "cash", {CASH}),
    ("aps", "partita_iva_only", "bank_transfer", {DED_ORG}),
    ("odv", "person", "card", {DET35, CHOICE, NO_CUMULATION}),
    ("odv", "person", "cash", {CASH}),
    ("odv", "company", "bank_transfer", {DED_ORG}),
    ("odv", "company", "cash", {CASH}),
    ("odv_set_to_30", "person", "sepa_debit", {DET35, CHOICE, NO_CUMULATION}),
    ("deduction_only", "person", "card", {DED}),
    ("deduction_only", "person", "cash", {CASH}),
    ("deduction_only", "company", "cheque", {DED_ORG}),
    ("deduction_only", "company", "cash", {CASH}),
    ("no_benefit", "person", "card", {NONE}),
    ("no_benefit", "company", "bank_transfer", {NONE}),
    ("no_benefit", "person", "cash", {CASH}),
]


def italian(msgid):
    """The template's sentence in Italian (template msgids escape % as %%)."""
    with translation.override("it"):
        return translation.gettext(msgid.replace("%", "%%")).replace("%%", "%")


def flat(text):
    return " ".join(text.split())


@pytest.mark.parametrize(("entity", "donor_kind", "method", "expected"), CASES)
def test_the_receipt_states_the_benefit_of_this_entity_donor_and_method(
    network_factory, entity, donor_kind, method, expected
):
    # given an entity of this kind and a donor of this kind who gave by this method
    entity_kind, regime = ENTITIES[entity]
    network = network_factory(f"rete-{entity.replace('_', '-')}", entity_kind=entity_kind)
    network.tax_regime = regime
    network.save()
    donor = Donor.objects.create(
        network=network, first_name="Mario", last_name="Rossi", **DONORS[donor_kind]
    )
    gift = Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=50000,
        received_on=datetime.date(2026, 3, 14),
        status=Donation.Status.SUCCEEDED,
        method=method,
    )

    # when its receipt is printed (Italian, the donor's language)
    receipt = issue_receipt([gift], enqueue_render=False)
    text = flat(pdf_text(render_receipt(receipt)))

    # then exactly the sentences of this case are on it, in Italian
    for sentence in ALL:
        printed = flat(italian(sentence)) in text
        assert printed == (sentence in expected), (sentence, printed)


def test_the_italian_sentences_are_translated():
    # the table above reads the Italian catalogue: every sentence has its own Italian
    for sentence in ALL:
        assert italian(sentence) != sentence, sentence


@pytest.fixture
def mixed(network_factory):
    network = network_factory("rete-mista")
    donor = Donor.objects.create(
        network=network, first_name="Anna", last_name="Verdi", codice_fiscale="RSSMRA85T10A562S"
    )
    gifts = [
        Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=cents,
            received_on=datetime.date(2026, 3, day),
            status=Donation.Status.SUCCEEDED,
            method=method,
        )
        for cents, day, method in ((10000, 1, "card"), (2000, 2, "cash"))
    ]
    return issue_receipt(gifts, enqueue_render=False)


def test_a_mixed_receipt_gives_the_detraction_and_the_cash_caveat(mixed):
    text = flat(pdf_text(render_receipt(mixed)))
    for sentence in (DET30, CHOICE, NO_CUMULATION, CASH):
        assert flat(italian(sentence)) in text, sentence
    assert flat(italian(DED_ORG)) not in text
