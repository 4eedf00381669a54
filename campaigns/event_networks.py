"""Which network a Stripe event concerns, so each treasurer sees their network's events.

A connected account's event is the network whose account it is, or whose partner entity's it
is (`Network.objects.with_account`: an account belongs to one network). A platform event (no
`account`) concerns the object it carries: the network of our record of that object (gift,
plan, payout), else the gift or network its metadata names (on the platform account only we
create objects). Only gifts paid on the platform, and networks without an account of their
own, take platform events."""

from django.db import connection

from crm.models import Donation, Network, RecurringPlan

from .payouts.models import Payout

# The largest id a gift can have (a bigint): a larger "donation_id" in metadata names none.
MAX_ID = 2**63 - 1


def _id(value):
    return value.get("id") if isinstance(value, dict) else value


def _gift(seen=None, **lookup):
    """The network id of the gift matching `lookup` (the first by id); the account the gift is
    paid on goes in `seen` (network id → Stripe account), so that `network_for_event` need not
    ask again. Written out: every acknowledgement asks it, and the ORM's building of this one
    query cost more CPU than the rest of the acknowledgement's statements (issue 21)."""
    lookup = {k: v for k, v in lookup.items() if v}
    if not lookup:
        return None
    gift, network = Donation._meta, Network._meta
    quote = connection.ops.quote_name
    fields = [gift.pk if name == "pk" else gift.get_field(name) for name in lookup]
    where = " AND ".join(f"d.{quote(field.column)} = %s" for field in fields)
    sql = (
        f"SELECT d.{quote('network_id')}, d.{quote('stripe_account_id')}, "  # noqa: S608 (the model's names; values bound)
        f"n.{quote('stripe_account_id')} "
        f"FROM {quote(gift.db_table)} d JOIN {quote(network.db_table)} n "
        f"ON n.{quote(network.pk.column)} = d.{quote('network_id')} "
        f"WHERE {where} ORDER BY d.{quote(gift.pk.column)} LIMIT 1"
    )
    params = [
        field.get_db_prep_value(field.get_prep_value(value), connection)
        for field, value in zip(fields, lookup.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    network_id, frozen, of_network = row
    if seen is not None:  # as `Donation.stripe_account`
        seen[network_id] = frozen if frozen is not None else (of_network or "")
    return network_id


def _plan(subscription_id):
    if not subscription_id:
        return None
    plans = RecurringPlan.objects.filter(stripe_subscription_id=subscription_id)
    return plans.values_list("network_id", flat=True).first()


def _by_record(obj, seen):
    kind, oid = obj.get("object"), obj.get("id")
    intent = _id(obj.get("payment_intent"))
    if kind == "checkout.session":
        return _gift(seen, stripe_checkout_session_id=oid) or _plan(_id(obj.get("subscription")))
    if kind == "payment_intent":
        return _gift(seen, stripe_payment_intent_id=oid)
    if kind == "charge":
        return _gift(seen, stripe_charge_id=oid) or _gift(seen, stripe_payment_intent_id=intent)
    if kind in ("refund", "dispute"):
        return _gift(seen, stripe_charge_id=_id(obj.get("charge"))) or _gift(
            seen, stripe_payment_intent_id=intent
        )
    if kind == "invoice":
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        return _gift(seen, stripe_invoice_id=oid) or _plan(_id(details.get("subscription")))
    if kind == "subscription":
        return _plan(oid)
    if kind == "payout":
        return (
            Payout.objects.filter(stripe_payout_id=oid).values_list("network_id", flat=True).first()
        )
    return None


def _by_metadata(obj, seen):
    metadata = obj.get("metadata") or {}
    if obj.get("object") == "invoice":
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        metadata = details.get("metadata") or metadata
    donation_id = str(metadata.get("donation_id") or obj.get("client_reference_id") or "")
    if donation_id.isdigit() and int(donation_id) <= MAX_ID:
        found = _gift(seen, pk=int(donation_id))
        if found:
            return found
    slug = metadata.get("network")
    if slug:
        return Network.objects.filter(slug=slug).values_list("pk", flat=True).first()
    return None


def network_for_event(event):
    """The id of the network an event concerns, or None."""
    account = event.get("account") or ""
    if account:
        return Network.objects.with_account(account).values_list("pk", flat=True).first()
    obj = (event.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        return None
    seen = {}
    network_id = _by_record(obj, seen) or _by_metadata(obj, seen)
    if not network_id:
        return None
    if network_id in seen:  # found through a gift, the account it is paid on with it
        return network_id if seen[network_id] == "" else None
    if Network.objects.filter(pk=network_id, stripe_account_id="").exists():
        return network_id
    return None
