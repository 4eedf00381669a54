"""Issue 26, the money: a partner entity with its own Stripe Connect account. A gift to its
campaign is charged on its account (the lead's gifts on the network's), its webhook is applied
once to the right gift, its receipt is in the entity's series, its refund goes to the account
it was paid on, each account's payout reconciles to the cent under its entity, and an entity's
treasurer sees its own payouts only. Through the stand-in and the official stripe library."""

import datetime

import pytest
import stripe
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from campaigns.models import CampaignPage, Payout, PayoutLine, StripeEvent
from campaigns.payouts.report import payout_totals
from crm.admin.entities import IssuingEntityForm
from crm.models import Donation, IssuingEntity, Network, Receipt, RecurringPlan
from tests.entities import partner_entity

from . import payloads
from .conftest import event
from .test_payouts import FEE, _deliver_all, _stripe
from .test_reconcile import _give_and_pay
from .test_refunds import confirm

LEAD_ACCOUNT = "acct_1OltreIlPonteLead"
PARTNER_ACCOUNT = "acct_1CoopIlPonte"
TREASURER = "tesoreria-oltre-il-ponte"


@pytest.fixture
def two_accounts(campaign):
    """The demo campaign's network on its own account (its lead entity's), and a partner entity
    with an account of its own and a campaign naming it."""
    network = campaign.network
    network.stripe_account_id = LEAD_ACCOUNT
    network.full_clean()
    network.save()
    partner = partner_entity(network, stripe_account_id=PARTNER_ACCOUNT)
    partner.full_clean()
    today = datetime.date.today()
    page = campaign.get_parent().add_child(
        instance=CampaignPage(
            title="Un tetto per tutti",
            goal_cents=500000,
            starts_on=today - datetime.timedelta(days=1),
            ends_on=today + datetime.timedelta(days=30),
            suggested_amounts="10 25 50",
            issuing_entity=partner,
        )
    )
    page.save_revision().publish()
    return campaign, CampaignPage.objects.get(pk=page.pk), partner


def _client(account):
    from django.conf import settings

    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        stripe_account=account,
    )


def _sessions(account):
    return {s.id for s in _client(account).v1.checkout.sessions.list().auto_paging_iter()}


def _refunds(account):
    return [(r.charge, r.amount) for r in _client(account).v1.refunds.list().auto_paging_iter()]


def test_each_entitys_gift_is_charged_applied_receipted_and_refunded_on_its_account(
    client, deliver, two_accounts, stripe_standin, stripe_events, effects, settings
):
    settings.GIVING_RATE_LIMITS = {"ip": (100, 3600), "email": (100, 3600)}
    lead_page, partner_page, partner = two_accounts
    lead = lead_page.network.lead_entity
    # when a donor gives to each campaign and pays on Checkout
    _give_and_pay(client, lead_page)
    _give_and_pay(client, partner_page, email="luca@example.org")
    _deliver_all(stripe_standin, stripe_events)
    lead_gift = Donation.objects.get(donor_details__email="anna@example.org")
    partner_gift = Donation.objects.get(donor_details__email="luca@example.org")
    # then each session was made on its entity's account, and on no other
    assert _sessions(LEAD_ACCOUNT) == {lead_gift.stripe_checkout_session_id}
    assert _sessions(PARTNER_ACCOUNT) == {partner_gift.stripe_checkout_session_id}
    assert _sessions("") == set()
    # and each gift records its account, is paid, with its fee read on that account
    assert (lead_gift.stripe_account_id, partner_gift.stripe_account_id) == (
        LEAD_ACCOUNT,
        PARTNER_ACCOUNT,
    )
    assert {lead_gift.status, partner_gift.status} == {"succeeded"}
    assert (lead_gift.entity, partner_gift.entity) == (lead, partner)
    assert lead_gift.fee_cents == partner_gift.fee_cents == FEE
    # and its completion came from its account, applied once, the events under the network
    completed = StripeEvent.objects.filter(type="checkout.session.completed")
    assert sorted(completed.values_list("account", flat=True)) == sorted(
        [LEAD_ACCOUNT, PARTNER_ACCOUNT]
    )
    assert {e.outcome for e in completed} == {"applied"}
    assert {e.network_id for e in completed} == {lead_page.network.pk}
    # and each receipt is numbered in its entity's series
    year = partner_gift.received_on.year
    assert partner_gift.receipts.get().number == f"CP-{year}/00001"
    assert lead_gift.receipts.get().entity == lead
    # when Stripe delivers every event again (signed, as it retries)
    receipts_before = Receipt.objects.count()
    for stored in StripeEvent.objects.order_by("pk"):
        assert deliver(stored.payload).status_code == 200
    # then nothing is applied twice
    assert Receipt.objects.count() == receipts_before
    assert sorted(effects) == sorted([("succeeded", lead_gift.pk), ("succeeded", partner_gift.pk)])
    # when the treasurer refunds € 5,00 of each
    client.force_login(get_user_model().objects.get(username=TREASURER))
    for gift in (lead_gift, partner_gift):
        gift.refresh_from_db()
        assert confirm(client, gift, "5").status_code == 302
    # then each refund is made on the account its gift was paid on
    assert _refunds(LEAD_ACCOUNT) == [(lead_gift.stripe_charge_id, 500)]
    assert _refunds(PARTNER_ACCOUNT) == [(partner_gift.stripe_charge_id, 500)]
    assert _refunds("") == []
    # and their webhooks, each from its account, change nothing more
    _deliver_all(stripe_standin, stripe_events)
    for gift in (lead_gift, partner_gift):
        gift.refresh_from_db()
        assert gift.refunded_cents == 500
    refunded = StripeEvent.objects.filter(type="charge.refunded")
    assert sorted(refunded.values_list("account", flat=True)) == sorted(
        [LEAD_ACCOUNT, PARTNER_ACCOUNT]
    )
    assert not refunded.filter(outcome__in=("ignored", "failed")).exists()


def test_a_partners_monthly_gift_is_a_subscription_of_its_account(
    client, two_accounts, stripe_standin, stripe_events
):
    from campaigns import plan_changes

    _lead_page, partner_page, _partner = two_accounts
    # when a donor starts a monthly gift on the partner's campaign
    _give_and_pay(client, partner_page, frequency="monthly", email="luca@example.org")
    _deliver_all(stripe_standin, stripe_events)
    # then the subscription is the partner's account's, the plan records it and charges there
    plan = RecurringPlan.objects.get()
    assert (plan.status, plan.stripe_account_id, plan.stripe_account) == (
        "active",
        PARTNER_ACCOUNT,
        PARTNER_ACCOUNT,
    )
    subscriptions = _client(PARTNER_ACCOUNT).v1.subscriptions.list()
    assert [s.id for s in subscriptions.data] == [plan.stripe_subscription_id]
    gift = plan.donations.get()
    assert (gift.status, gift.stripe_account_id) == ("succeeded", PARTNER_ACCOUNT)
    # and the treasurer's stop reaches it there
    assert plan_changes.cancel(plan, by="test") is True
    plan.refresh_from_db()
    assert plan.status == "cancelled"


def _payout(base, account):
    return _stripe(base, "POST", "/_standin/payouts", account=account)


def test_each_accounts_payout_reconciles_under_its_entity_and_its_treasurers_see_only_theirs(
    client, two_accounts, stripe_standin, stripe_events, settings
):
    settings.GIVING_RATE_LIMITS = {"ip": (100, 3600), "email": (100, 3600)}
    lead_page, partner_page, partner = two_accounts
    lead = lead_page.network.lead_entity
    # given two gifts to the lead's campaign and three to the partner's, paid and applied
    for n in range(2):
        _give_and_pay(client, lead_page, email=f"lead{n}@example.org")
    for n in range(3):
        _give_and_pay(client, partner_page, email=f"partner{n}@example.org")
    _deliver_all(stripe_standin, stripe_events)
    assert set(Donation.objects.values_list("status", flat=True)) == {"succeeded"}
    # when Stripe pays out each account's balance
    lead_paid = _payout(stripe_standin, LEAD_ACCOUNT)
    partner_paid = _payout(stripe_standin, PARTNER_ACCOUNT)
    _deliver_all(stripe_standin, stripe_events)
    # then each payout is its entity's, its lines its own gifts, reconciled to the cent
    lead_payout = Payout.objects.get(stripe_payout_id=lead_paid["id"])
    partner_payout = Payout.objects.get(stripe_payout_id=partner_paid["id"])
    assert (lead_payout.entity, lead_payout.account) == (lead, LEAD_ACCOUNT)
    assert (partner_payout.entity, partner_payout.account) == (partner, PARTNER_ACCOUNT)
    assert lead_payout.network == partner_payout.network == lead_page.network
    for payout, gifts in ((lead_payout, 2), (partner_payout, 3)):
        lines = payout.lines.filter(kind=PayoutLine.Kind.GIFT)
        assert lines.count() == gifts
        assert set(lines.values_list("donation__stripe_account_id", flat=True)) == {payout.account}
        assert payout.amount_cents == gifts * (2500 - FEE)
        assert payout_totals(payout).difference == 0
    # and the network's treasurer sees both, each named by its entity
    client.force_login(get_user_model().objects.get(username=TREASURER))
    index = client.get(reverse("campaigns_payout:index")).content.decode()
    for payout in (lead_payout, partner_payout):
        assert reverse("campaigns_payout:inspect", args=[payout.pk]) in index
    assert "Cooperativa sociale Il Ponte" in index
    only_partner = client.get(reverse("campaigns_payout:index"), {"entity": partner.pk})
    assert reverse("campaigns_payout:inspect", args=[lead_payout.pk]) not in (
        only_partner.content.decode()
    )
    # when one of the partner's own treasurers signs in
    person = get_user_model().objects.create_user("tesoriere-cooperativa", password="x")
    person.groups.add(IssuingEntity.objects.get(pk=partner.pk).treasurers_group)
    client.force_login(person)
    # then they see the partner's payout and none of the lead's
    index = client.get(reverse("campaigns_payout:index"))
    assert index.status_code == 200
    assert reverse("campaigns_payout:inspect", args=[partner_payout.pk]) in index.content.decode()
    assert reverse("campaigns_payout:inspect", args=[lead_payout.pk]) not in (
        index.content.decode()
    )
    inspect = client.get(reverse("campaigns_payout:inspect", args=[partner_payout.pk]))
    assert inspect.status_code == 200
    assert 'data-testid="payout-reconciled"' in inspect.content.decode()
    for name in ("inspect", "report"):
        url = reverse(f"campaigns_payout:{name}", args=[lead_payout.pk])
        assert client.get(url).status_code == 404
    year = client.get(reverse("campaigns_payout:year"), {"year": partner_payout.arrival_date.year})
    assert (partner_paid.get("trace_id") or {}).get("value", partner_paid["id"]) in (
        year.content.decode()
    )
    assert lead_payout.trace_id not in year.content.decode()


def _pending(page, session):
    return Donation.objects.create(
        network=page.network,
        campaign=page,
        amount_cents=2500,
        donor_details={
            "first_name": "Anna",
            "last_name": "Rossi",
            "email": "anna.rossi@example.org",
            "public_mention": True,
            "privacy_notice_version": "2026-11",
        },
        stripe_checkout_session_id=session,
    )


def test_an_event_from_the_other_entitys_account_is_not_applied_to_the_gift(deliver, two_accounts):
    lead_page, partner_page, _partner = two_accounts
    # given a pending gift to each entity's campaign
    lead_gift = _pending(lead_page, "cs_test_lead_acct")
    partner_gift = _pending(partner_page, "cs_test_partner_acct")
    assert (lead_gift.stripe_account_id, partner_gift.stripe_account_id) == (
        LEAD_ACCOUNT,
        PARTNER_ACCOUNT,
    )
    lead_paid = payloads.checkout_session(lead_gift, pi="pi_lead_acct")
    partner_paid = payloads.checkout_session(partner_gift, pi="pi_partner_acct")
    # when, signed with our endpoint's secret, each gift's completion comes from the other
    # entity's account (same network), or from the platform
    crossed = [
        event("checkout.session.completed", lead_paid, account=PARTNER_ACCOUNT),
        event("checkout.session.completed", partner_paid, account=LEAD_ACCOUNT),
        event("checkout.session.completed", partner_paid),
    ]
    for body in crossed:
        assert deliver(body).status_code == 200
    # then neither gift is touched, and the events are kept as not ours
    for gift in (lead_gift, partner_gift):
        gift.refresh_from_db()
        assert (gift.status, gift.stripe_payment_intent_id) == ("pending", None)
    outcomes = StripeEvent.objects.filter(event_id__in=[b["id"] for b in crossed])
    assert set(outcomes.values_list("outcome", flat=True)) == {"ignored"}
    assert not Receipt.objects.exists()
    # when the partner gift's completion comes from its own account, with another amount
    wrong = {**partner_paid, "amount_total": 2400}
    held = event("checkout.session.completed", wrong, account=PARTNER_ACCOUNT)
    assert deliver(held).status_code == 200
    partner_gift.refresh_from_db()
    # then the amount check holds: held for review, not receipted
    assert partner_gift.status == "needs_review"
    # when the lead gift's completes on its own account, twice
    right = event("checkout.session.completed", lead_paid, account=LEAD_ACCOUNT)
    assert deliver(right).status_code == 200
    assert deliver(right).status_code == 200
    lead_gift.refresh_from_db()
    # then it is applied once
    assert lead_gift.status == "succeeded"
    assert StripeEvent.objects.filter(event_id=right["id"]).count() == 1
    # and a refund of it sent from the partner's account changes nothing
    refunded = payloads.charge("ch_lead_acct", "pi_lead_acct", amount_refunded=500)
    stray = event("charge.refunded", refunded, account=PARTNER_ACCOUNT)
    assert deliver(stray).status_code == 200
    lead_gift.refresh_from_db()
    assert (lead_gift.status, lead_gift.refunded_cents) == ("succeeded", 0)
    assert StripeEvent.objects.get(event_id=stray["id"]).outcome == "ignored"


def test_an_account_is_one_entitys_only(two_accounts, demo):
    _lead_page, _partner_page, partner = two_accounts
    other = next(n for n in demo.values() if n.pk != partner.network_id)
    # a partner of another network cannot take the partner's account, nor the network's
    for taken in (PARTNER_ACCOUNT, LEAD_ACCOUNT):
        intruder = partner_entity(other, stripe_account_id="")
        intruder.stripe_account_id = taken
        with translation.override("it"), pytest.raises(ValidationError) as refused:
            intruder.full_clean()
        assert "stripe_account_id" in refused.value.message_dict
        assert "già" in " ".join(refused.value.message_dict["stripe_account_id"])
        intruder.delete()
    # nor can another network, nor the lead entity have one of its own, nor a malformed id
    other.stripe_account_id = PARTNER_ACCOUNT
    with pytest.raises(ValidationError):
        other.full_clean()
    lead = partner.network.lead_entity
    lead.stripe_account_id = "acct_1SomethingElse"
    with pytest.raises(ValidationError):
        lead.full_clean()
    partner.stripe_account_id = "acct-1 Coop"
    with pytest.raises(ValidationError):
        partner.full_clean()
    # and an empty id means the network's account
    second = partner_entity(partner.network, receipt_series="CQ", legal_name="APS Il Faro")
    second.full_clean()
    assert second.stripe_account == LEAD_ACCOUNT
    assert IssuingEntity.objects.get(pk=partner.pk).stripe_account == PARTNER_ACCOUNT


def test_the_entity_form_refuses_a_shared_account_with_a_translated_error(two_accounts, demo):
    _lead_page, _partner_page, partner = two_accounts
    admin = get_user_model().objects.filter(is_superuser=True).first()
    other = next(n for n in demo.values() if n.pk != partner.network_id)
    data = {
        "network": other.pk,
        "legal_name": "Associazione Altrove",
        "codice_fiscale": "92012340011",
        "entity_kind": Network.EntityKind.APS,
        "tax_regime": Network.TaxRegime.DETRACTION_30,
        "street_address": "Via Roma 1",
        "postal_code": "20121",
        "city": "Milano",
        "signer_name": "Anna Verdi",
        "signer_role": "Presidente",
        "receipt_series": "AL",
        "stripe_account_id": PARTNER_ACCOUNT,
    }
    from django.forms import modelform_factory

    from crm.admin.entities import IssuingEntityViewSet

    Form = modelform_factory(
        IssuingEntity, form=IssuingEntityForm, fields=IssuingEntityViewSet.form_fields
    )
    with translation.override("it"):
        form = Form(data=data, for_user=admin)
        assert not form.is_valid()
        assert "Questo account Stripe" in " ".join(form.errors["stripe_account_id"])
    assert not IssuingEntity.objects.filter(legal_name="Associazione Altrove").exists()


def test_the_donor_reads_who_collects_a_partners_card_payments(client, two_accounts):
    lead_page, partner_page, partner = two_accounts
    network_name = lead_page.network.legal_name
    # given the partner on its own account: its page names no one else collecting
    html = client.get(partner_page.url).content.decode()
    assert "Cooperativa sociale Il Ponte" in html
    assert 'data-testid="collected-by"' not in html
    # when the partner has no account of its own (the network's takes its card gifts)
    IssuingEntity.objects.filter(pk=partner.pk).update(stripe_account_id="")
    partner_page.save_revision().publish()  # a new page version: the cached page is dropped
    html = client.get(partner_page.url).content.decode()
    # then the donor reads, before paying, that the network collects them on its behalf
    assert 'data-testid="collected-by"' in html
    assert f"incassati da {network_name}" in html.replace("&#x27;", "'")
    # and the lead's own page says nothing of the kind
    assert 'data-testid="collected-by"' not in client.get(lead_page.url).content.decode()


def test_connected_accounts_events_signed_by_the_connect_endpoint_are_taken(
    deliver, two_accounts, settings
):
    # given the Connect endpoint's own secret configured beside the platform's
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_connect_endpoint"
    _lead_page, partner_page, _partner = two_accounts
    gift = _pending(partner_page, "cs_test_connect_secret")
    paid = payloads.checkout_session(gift, pi="pi_connect_secret")
    # when an event is signed with a secret that is neither, it is refused and nothing stored
    forged = event("checkout.session.completed", paid, account=PARTNER_ACCOUNT)
    assert deliver(forged, secret="whsec_someone_else").status_code == 400
    assert not StripeEvent.objects.exists()
    # when the partner account's event comes signed by the Connect endpoint
    signed = event("checkout.session.completed", paid, account=PARTNER_ACCOUNT)
    assert deliver(signed, secret="whsec_connect_endpoint").status_code == 200
    # then it is applied to the partner's gift
    gift.refresh_from_db()
    assert gift.status == "succeeded"


def test_a_plan_keeps_its_account_when_its_entity_connects_its_own(deliver, two_accounts):
    lead_page, partner_page, partner = two_accounts
    # given a partner paid on the network's account, and a monthly gift started there
    IssuingEntity.objects.filter(pk=partner.pk).update(stripe_account_id="")
    gift = _pending(partner_page, "cs_test_plan_moves")
    assert gift.stripe_account_id == LEAD_ACCOUNT
    session = payloads.checkout_session(gift, mode="subscription", subscription="sub_moves")
    first = payloads.invoice("in_moves_1", "sub_moves", donation=gift)
    for obj, kind in ((session, "checkout.session.completed"), (first, "invoice.paid")):
        assert deliver(event(kind, obj, account=LEAD_ACCOUNT)).status_code == 200
    plan = RecurringPlan.objects.get(stripe_subscription_id="sub_moves")
    assert (plan.status, plan.stripe_account) == ("active", LEAD_ACCOUNT)
    # when the partner connects its own account, and the subscription renews where it lives
    IssuingEntity.objects.filter(pk=partner.pk).update(stripe_account_id=PARTNER_ACCOUNT)
    renewal = payloads.invoice("in_moves_2", "sub_moves", billing_reason="subscription_cycle")
    stray = payloads.invoice("in_moves_3", "sub_moves", billing_reason="subscription_cycle")
    assert deliver(event("invoice.paid", renewal, account=LEAD_ACCOUNT)).status_code == 200
    # and an invoice of that subscription claimed from the partner's new account
    assert deliver(event("invoice.paid", stray, account=PARTNER_ACCOUNT)).status_code == 200
    # then the renewal is recorded, on the account it was paid on, and the stray is not
    renewed = Donation.objects.get(stripe_invoice_id="in_moves_2")
    assert (renewed.status, renewed.stripe_account_id) == ("succeeded", LEAD_ACCOUNT)
    assert renewed.entity == IssuingEntity.objects.get(pk=partner.pk)
    assert not Donation.objects.filter(stripe_invoice_id="in_moves_3").exists()
    assert lead_page.network.pk == plan.network_id


def test_the_demos_partner_campaign_is_received_charged_and_receipted_by_the_partner(
    client, demo, stripe_standin, stripe_events, settings
):
    # given the demo's partner entity, on its own Stripe account, and its campaign
    settings.GIVING_RATE_LIMITS = {"ip": (100, 3600), "email": (100, 3600)}
    network = demo["valle-serena"]
    partner = IssuingEntity.objects.get(network=network, is_lead=False)
    page = CampaignPage.objects.get(issuing_entity=partner)
    assert partner.has_own_stripe_account
    # then its page tells the donor who receives the gift: the partner, paid on its own account
    html = client.get(page.url).content.decode()
    assert "APS Il Ponte dei Colori" in html and partner.codice_fiscale in html
    assert 'data-testid="collected-by"' not in html
    # when a donor gives to it and pays on Checkout
    _give_and_pay(
        client,
        page,
        email="luca@example.org",
        amount="3000",
        wants_receipt="on",
        codice_fiscale="RSSMRA80A01H501U",
        street_address="Via Roma 1",
        postal_code="24021",
        city="Albino",
    )
    _deliver_all(stripe_standin, stripe_events)
    gift = Donation.objects.get(donor_details__email="luca@example.org")
    # then the gift was charged on the partner's account, is the partner's, and its receipt is
    # in the partner's series
    assert _sessions(partner.stripe_account_id) == {gift.stripe_checkout_session_id}
    assert (gift.status, gift.entity, gift.stripe_account_id) == (
        "succeeded",
        partner,
        partner.stripe_account_id,
    )
    receipt = gift.receipts.get()
    assert receipt.number == f"PC-{gift.received_on.year}/00001"
    assert receipt.entity_snapshot["legal_name"] == "APS Il Ponte dei Colori"
