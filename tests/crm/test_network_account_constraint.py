"""One Stripe account, one network, held by the database too (as `one_entity_per_stripe_account`
holds it for issuing entities). Webhooks, refunds and payouts find a gift's network by the
event's account (`Network.objects.with_account`): two networks on one account would route one's
money to the other's gifts. The network form refused it; now a write past the form, or the
second of two saves at once, is refused too, and the form says why."""

import html.parser

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from crm.models import Network
from tests.migration_steps import latest_migrations, migrate_to

pytestmark = pytest.mark.django_db

ACCOUNT = "acct_1ReteNordOwn"
TAKEN = {
    "it": "Questo account Stripe è già di un'altra rete",
    "en": "Another network already has this Stripe account",
}


@pytest.fixture
def two_networks(network_factory):
    """Two networks; the first has its own Stripe account."""
    return network_factory("rete-nord", stripe_account_id=ACCOUNT), network_factory("rete-sud")


def _holders():
    return list(Network.objects.filter(stripe_account_id=ACCOUNT).values_list("pk", flat=True))


def test_the_database_refuses_a_second_network_on_an_account(two_networks):
    north, south = two_networks
    # when another network is given the account by an update that skips every check
    with pytest.raises(IntegrityError), transaction.atomic():
        Network.objects.filter(pk=south.pk).update(stripe_account_id=ACCOUNT)
    # then the account is still the first network's only
    assert _holders() == [north.pk]
    # while any number of networks use the platform's account (empty)
    Network.objects.update(stripe_account_id="")
    assert Network.objects.filter(stripe_account_id="").count() == 2


@pytest.mark.parametrize("language", ["it", "en"])
def test_model_validation_names_the_field_with_a_translated_message(two_networks, language):
    _north, south = two_networks
    south.stripe_account_id = ACCOUNT
    with translation.override(language):
        with pytest.raises(ValidationError) as refused:
            south.validate_constraints()
        assert TAKEN[language] in " ".join(refused.value.message_dict["stripe_account_id"])


class FormFields(html.parser.HTMLParser):
    """The values a browser would post back from the page's form."""

    def __init__(self):
        super().__init__()
        self.data, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            else:
                self.data[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def _edit_form(client, url):
    parser = FormFields()
    parser.feed(client.get(url).content.decode())
    return {k: v for k, v in parser.data.items() if k not in ("csrfmiddlewaretoken", "q")}


def test_a_save_that_loses_the_race_for_an_account_is_a_form_error(
    client, two_networks, monkeypatch
):
    """Two people give one free account to a network each at the same moment: both forms find
    it free, the first save takes it, the second meets the constraint and reads why on the
    form, in Italian (it was the database's error page), nothing of theirs saved."""
    north, south = two_networks
    Network.objects.filter(pk=north.pk).update(stripe_account_id="")
    admin = get_user_model().objects.create_superuser("amministratore", password="x")
    profile = UserProfile.get_for_user(admin)
    profile.preferred_language = "it"
    profile.save()
    client.force_login(admin)
    url = reverse("networks:edit", args=[south.pk])
    data = {**_edit_form(client, url), "stripe_account_id": ACCOUNT, "signer_name": "Anna Verdi"}
    checked = Network.validate_constraints

    def first_save_in_between(network, *args, **kwargs):
        # the form's checks pass (the account is free), then the other save commits
        checked(network, *args, **kwargs)
        if network.pk == south.pk and not _holders():
            Network.objects.filter(pk=north.pk).update(stripe_account_id=ACCOUNT)

    monkeypatch.setattr(Network, "validate_constraints", first_save_in_between)
    response = client.post(url, data)
    # then the form comes back, saying why, and nothing of the second save is kept
    assert response.status_code == 200
    assert TAKEN["it"] in html.unescape(response.content.decode())
    assert _holders() == [north.pk]
    assert Network.objects.get(pk=south.pk).signer_name == south.signer_name
    # and with the account free again, the same form saves
    Network.objects.filter(pk=north.pk).update(stripe_account_id="")
    monkeypatch.setattr(Network, "validate_constraints", checked)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert _holders() == [south.pk]


@pytest.mark.django_db(transaction=True)
def test_the_migration_stops_on_a_shared_account_and_says_which():
    latest = latest_migrations()
    try:
        # given, before the constraint, two networks written on one account past the forms
        old = migrate_to([("crm", "0029_one_entity_per_stripe_account")])
        OldNetwork = old.get_model("crm", "Network")
        legal = {
            "codice_fiscale": "92012340011",
            "entity_kind": "aps",
            "street_address": "Via Verdi 1",
            "postal_code": "20121",
            "city": "Milano",
            "signer_name": "Maria Rossi",
            "stripe_account_id": ACCOUNT,
        }
        first, second = (
            OldNetwork.objects.create(name=name, slug=slug, legal_name=name, **legal)
            for name, slug in (("Rete Uno", "rete-uno"), ("Rete Due", "rete-due"))
        )
        # when the migrations run: they stop, naming the account and its networks
        with pytest.raises(RuntimeError) as stopped:
            migrate_to(latest)
        assert ACCOUNT in str(stopped.value)
        assert "Rete Uno" in str(stopped.value) and "Rete Due" in str(stopped.value)
        # and once the account is one network's, they run
        OldNetwork.objects.filter(pk=second.pk).update(stripe_account_id="")
        migrate_to(latest)
    finally:
        migrate_to(latest)
    assert _holders() == [first.pk]
