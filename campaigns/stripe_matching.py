"""Which of our records a Stripe event is about, for the handlers (`campaigns.stripe_handlers`,
`campaigns.stripe_plan_handlers`): the outcomes that are not a change (`NotOurs`, `NotYet`,
`Unreachable`) and how an event's ids and metadata find its donation (see
`campaigns.stripe_handlers` for the binding rules)."""

import datetime

from crm import gifts
from crm.models import Donation
from crm.money import fiscal_date


class NotOurs(Exception):
    """The event concerns an object we do not know, or one of another account: acknowledged
    and kept, nothing applied."""


class NotYet(Exception):
    """The event refers to something that has not arrived yet (the checkout that makes its plan,
    the payment it refunds): kept as waiting and acknowledged, then applied when that arrives
    (`campaigns.webhooks.apply_waiting`) or by the worker's sweep."""


class Unreachable(Exception):
    """Stripe did not answer a question the event needs: answered with an error, so that
    Stripe delivers it again later."""


def _id(value):
    return value.get("id") if isinstance(value, dict) else value


def _date(timestamp):
    if not timestamp:
        return None
    # The day in Italy: a gift paid at 23:30 on 31 December in Rome is of that year.
    return fiscal_date(datetime.datetime.fromtimestamp(int(timestamp), tz=datetime.UTC))


def _guard(donation, account):
    """A connected account's events may only touch the gifts paid on it (those of its entity:
    a partner's own account, or the network's for the lead and partners without one), and
    platform events only gifts paid on the platform."""
    if donation is None:
        raise NotOurs("no matching donation")
    if donation.stripe_account != (account or ""):
        raise NotOurs(f"donation {donation.pk} belongs to another Stripe account")
    return donation


def _metadata_donation_id(obj):
    value = (obj.get("metadata") or {}).get("donation_id") or obj.get("client_reference_id")
    return int(value) if value and str(value).isdigit() else None


def _agrees(donation, *, session_id=None, payment_intent_id=None, subscription_id=None):
    """A donation named only by metadata may take an event's Stripe ids if it is an online gift
    still waiting for its money (pending, or failed: a later success wins) and each of its
    recorded ids is either unset or the event's own (ids the event does not carry are not
    compared: a failed card attempt names only its payment)."""
    recorded = (
        (donation.stripe_checkout_session_id, session_id),
        (donation.stripe_payment_intent_id, payment_intent_id),
        (donation.stripe_subscription_id, subscription_id),
    )
    return (
        donation.status in (Donation.Status.PENDING, Donation.Status.FAILED)
        and donation.channel == Donation.Channel.ONLINE
        and all(not ours or not theirs or ours == theirs for ours, theirs in recorded)
    )


def _session_donation(session, account):
    """The donation a Checkout Session was created for: the one holding its id. A donation
    named by the session's metadata only if no recorded id of its contradicts the session
    (no session recorded yet, or the same ones): another session never takes over a gift."""
    donation = gifts.lock_donation(stripe_checkout_session_id=session["id"])
    claimed = _metadata_donation_id(session)
    if donation is None and claimed:
        donation = gifts.lock_donation(pk=claimed)
        ids = {
            "session_id": session["id"],
            "payment_intent_id": _id(session.get("payment_intent")),
            "subscription_id": _id(session.get("subscription")),
        }
        if donation is not None and not _agrees(donation, **ids):
            raise NotOurs(f"session {session['id']} names donation {claimed}, bound elsewhere")
    return _guard(donation, account)


def _payment_donation(payment_intent_id, account, metadata=None):
    donation = None
    if payment_intent_id:
        donation = gifts.lock_donation(stripe_payment_intent_id=payment_intent_id)
    claimed = _metadata_donation_id({"metadata": metadata or {}})
    if donation is None and claimed:
        donation = gifts.lock_donation(pk=claimed)
        if donation is not None and not _agrees(donation, payment_intent_id=payment_intent_id):
            raise NotOurs(f"payment {payment_intent_id} names donation {claimed}, bound elsewhere")
    return donation
