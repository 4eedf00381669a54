"""One Stripe account, one entity, held by the database too. Webhooks, refunds and payouts find
a gift's entity by the event's account (`IssuingEntity.objects.with_account`): two entities on
one account would route one's money to the other's gifts. The entity form refused it; now a
write that skips the form (the shell, a script, two treasurers saving at once) is refused as
well, and the form still says why, in the treasurer's language."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from crm.admin.entities import IssuingEntityViewSet
from crm.models import IssuingEntity
from tests.entities import partner_entity
from tests.migration_steps import latest_migrations, migrate_to

pytestmark = pytest.mark.django_db

ACCOUNT = "acct_1CoopIlPonte"
TAKEN = {
    "it": "Questo account Stripe è già di un altro ente emittente",
    "en": "Another issuing entity already has this Stripe account",
}


@pytest.fixture
def two_networks(network_factory):
    """Two networks; the first's partner entity has its own Stripe account."""
    north, south = network_factory("rete-nord"), network_factory("rete-sud")
    partner_entity(north, stripe_account_id=ACCOUNT)
    return north, south


def _holders():
    return list(IssuingEntity.objects.filter(stripe_account_id=ACCOUNT).values_list("pk"))


def test_the_database_refuses_a_second_entity_on_an_account(two_networks):
    north, south = two_networks
    before = _holders()
    # when an entity of another network, or of the same one, is created on the account
    for network, series in ((south, "CP"), (north, "CQ")):
        with pytest.raises(IntegrityError), transaction.atomic():
            partner_entity(
                network,
                legal_name=f"APS {series}",
                receipt_series=series,
                stripe_account_id=ACCOUNT,
            )
    # or an existing entity is given it by an update that skips every check
    other = partner_entity(south)
    with pytest.raises(IntegrityError), transaction.atomic():
        IssuingEntity.objects.filter(pk=other.pk).update(stripe_account_id=ACCOUNT)
    # then the account is still its first entity's only
    assert _holders() == before
    assert IssuingEntity.objects.get(pk=other.pk).stripe_account_id == ""


def test_many_entities_may_have_no_account_of_their_own(two_networks):
    north, south = two_networks
    # given the networks' lead entities, without an account of their own (the network's)
    # when several partners are added without one either, in both networks
    for network, series in ((north, "CQ"), (north, "CR"), (south, "CP")):
        partner_entity(network, legal_name=f"APS {series}", receipt_series=series).full_clean()
    # then they all are, on the network's account
    without = IssuingEntity.objects.filter(network__in=two_networks, stripe_account_id="")
    assert without.count() == 5
    assert {entity.stripe_account for entity in without} == {""}


@pytest.mark.parametrize("language", ["it", "en"])
def test_model_validation_names_the_field_with_a_translated_message(two_networks, language):
    _north, south = two_networks
    intruder = partner_entity(south)
    intruder.stripe_account_id = ACCOUNT
    with translation.override(language):
        # the constraint itself says it, on the field
        with pytest.raises(ValidationError) as refused:
            intruder.validate_constraints()
        assert TAKEN[language] in " ".join(refused.value.message_dict["stripe_account_id"])
        # and so does the whole validation the forms run
        with pytest.raises(ValidationError) as refused:
            intruder.full_clean()
        assert TAKEN[language] in " ".join(refused.value.message_dict["stripe_account_id"])


def _form_data(entity, **changes):
    data = {name: getattr(entity, name) for name in IssuingEntityViewSet.form_fields}
    data.update(network=entity.network_id, logo="", declared_income_cents="", **changes)
    return {name: "" if value is None else value for name, value in data.items()}


def test_the_entity_screens_refuse_a_taken_account_in_italian_and_change_nothing(
    client, two_networks
):
    _north, south = two_networks
    treasurer = get_user_model().objects.create_user("tesoriere-sud", password="x")
    treasurer.groups.add(south.treasurers_group)
    profile = UserProfile.get_for_user(treasurer)
    profile.preferred_language = "it"
    profile.save()
    client.force_login(treasurer)
    partner = partner_entity(south)
    before = _holders()
    # when the south's treasurer gives its partner the north partner's account
    edit = reverse("crm_entity:edit", args=[partner.pk])
    response = client.post(edit, _form_data(partner, stripe_account_id=ACCOUNT))
    # then the form says why, in Italian, and nothing changes
    assert response.status_code == 200
    assert TAKEN["it"] in response.content.decode()
    assert IssuingEntity.objects.get(pk=partner.pk).stripe_account_id == ""
    # nor is a new entity on that account added
    fields = _form_data(partner, legal_name="APS Il Faro", receipt_series="FA")
    response = client.post(reverse("crm_entity:add"), {**fields, "stripe_account_id": ACCOUNT})
    assert response.status_code == 200
    assert TAKEN["it"] in response.content.decode()
    assert not IssuingEntity.objects.filter(legal_name="APS Il Faro").exists()
    assert _holders() == before
    # and an account of its own is taken
    own = "acct_1ApsIlFaroSud"
    response = client.post(edit, _form_data(partner, stripe_account_id=own))
    assert response.status_code == 302
    assert IssuingEntity.objects.get(pk=partner.pk).stripe_account_id == own


@pytest.mark.django_db(transaction=True)
def test_the_migration_stops_on_a_shared_account_and_says_which():
    latest = latest_migrations()
    try:
        # given, before the constraint, two entities written on one account past the forms
        old = migrate_to([("crm", "0028_entity_stripe_accounts")])
        Network = old.get_model("crm", "Network")
        Entity = old.get_model("crm", "IssuingEntity")
        legal = {
            "codice_fiscale": "92012340011",
            "entity_kind": "aps",
            "street_address": "Via Verdi 1",
            "postal_code": "20121",
            "city": "Milano",
            "signer_name": "Maria Rossi",
        }
        network = Network.objects.create(name="Rete Doppia", slug="rete-doppia", **legal)
        first, second = (
            Entity.objects.create(
                network=network,
                legal_name=name,
                receipt_series=series,
                stripe_account_id=ACCOUNT,
                **legal,
            )
            for name, series in (("Coop Uno", "C1"), ("Coop Due", "C2"))
        )
        # when the migrations run: they stop, naming the account and its entities
        with pytest.raises(RuntimeError) as stopped:
            migrate_to(latest)
        assert ACCOUNT in str(stopped.value)
        assert "Coop Uno" in str(stopped.value) and "Coop Due" in str(stopped.value)
        # and once the account is one entity's, they run
        Entity.objects.filter(pk=second.pk).update(stripe_account_id="")
        migrate_to(latest)
    finally:
        migrate_to(latest)
    assert _holders() == [(first.pk,)]


RACED = "acct_1RacedForBoth"


@pytest.mark.parametrize("view", ["edit", "add"])
def test_a_save_that_loses_the_race_for_an_account_is_a_form_error(
    client, two_networks, monkeypatch, view
):
    """Two treasurers give one free account to an entity each at the same moment: both forms
    find it free, the first save takes it, the second meets the constraint. The second person
    reads why on their form, in Italian (it was the database's error page), and nothing of
    theirs is saved."""
    from crm.admin.entities import IssuingEntityForm

    north, south = two_networks
    treasurer = get_user_model().objects.create_user("tesoriere-sud", password="x")
    treasurer.groups.add(south.treasurers_group)
    profile = UserProfile.get_for_user(treasurer)
    profile.preferred_language = "it"
    profile.save()
    client.force_login(treasurer)
    partner = partner_entity(south)
    rival = partner_entity(north, legal_name="APS Il Faro Nord", receipt_series="FN")
    checked = IssuingEntityForm._post_clean

    def first_save_in_between(form):
        # the form's checks pass (the account is free), then the rival's save commits
        checked(form)
        IssuingEntity.objects.filter(pk=rival.pk).update(stripe_account_id=RACED)

    monkeypatch.setattr(IssuingEntityForm, "_post_clean", first_save_in_between)
    if view == "edit":
        url = reverse("crm_entity:edit", args=[partner.pk])
        data = _form_data(partner, stripe_account_id=RACED, signer_name="Anna Verdi")
    else:
        url = reverse("crm_entity:add")
        fields = _form_data(partner, legal_name="APS Il Faro Sud", receipt_series="FS")
        data = {**fields, "stripe_account_id": RACED}
    response = client.post(url, data)
    # then the second save is the form again, saying why, and changes nothing
    assert response.status_code == 200
    assert TAKEN["it"] in response.content.decode()
    assert list(IssuingEntity.objects.filter(stripe_account_id=RACED)) == [rival]
    assert IssuingEntity.objects.get(pk=partner.pk).signer_name == partner.signer_name
    assert not IssuingEntity.objects.filter(legal_name="APS Il Faro Sud").exists()
