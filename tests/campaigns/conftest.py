"""Giving fixtures: a campaign with its network, and Stripe events signed like Stripe does
(`t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<body>")`, docs.stripe.com/webhooks#verify-manually).
"""

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time

import pytest
from django.core.cache import cache, caches
from django.utils import translation

WEBHOOK_URL = "/stripe/webhook/"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _language_of_the_thread_reset():
    """A request to /en/ leaves English active in the test's thread (LocaleMiddleware): the
    next test would build English addresses (`page.url`) where it expects Italian ones."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache(db):
    cache.clear()
    caches["fragments"].clear()
    yield
    cache.clear()
    caches["fragments"].clear()


@pytest.fixture
def campaign(demo):
    from campaigns.models import CampaignPage

    page = CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")
    page.suggested_amounts = "10 25 50"
    page.save_revision().publish()
    return CampaignPage.objects.get(pk=page.pk)


def sign(payload, secret, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event(type_, obj, *, account=None, event_id=None, created=None):
    """An event envelope as Stripe sends it (https://docs.stripe.com/api/events/object)."""
    body = {
        "id": event_id or f"evt_test{next(_ids):020d}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created or int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    if account:
        body["account"] = account
    return body


@pytest.fixture
def deliver(client, settings):
    """POST an event to the webhook, signed with our endpoint secret."""

    def post(body, *, secret=None, timestamp=None, raw=None, signature=...):
        payload = raw if raw is not None else json.dumps(body).encode()
        headers = {}
        if signature is ...:
            signature = sign(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)
        if signature is not None:
            headers["Stripe-Signature"] = signature
        return client.post(WEBHOOK_URL, payload, content_type="application/json", headers=headers)

    return post


@pytest.fixture
def pending_donation(campaign):
    """A gift started on the campaign page, waiting for Stripe."""
    from crm.models import Donation

    def make(amount_cents=2500, *, session_id=None, email="anna.rossi@example.org", **extra):
        donation = Donation.objects.create(
            network=campaign.network,
            campaign=campaign,
            amount_cents=amount_cents,
            donor_details={
                "first_name": "Anna",
                "last_name": "Rossi",
                "email": email,
                "codice_fiscale": extra.pop("codice_fiscale", ""),
                "public_mention": True,
                "privacy_notice_version": "2026-11",
            },
            **extra,
        )
        donation.stripe_checkout_session_id = session_id or f"cs_test_{donation.pk:024d}"
        donation.save()
        return donation

    return make


@pytest.fixture
def stripe_events(stripe_standin, _capture, client, settings):
    """Events the stand-in sends, relayed as delivered (real signatures) to our webhook."""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_local_standin"
    _capture.take()

    class Relay:
        def wait_for(self, *types):
            _capture.wait_for(*types)

        def relay(self, reverse=False):
            responses = []
            taken = _capture.take()
            for body, signature in reversed(taken) if reverse else taken:
                responses.append(
                    client.post(
                        WEBHOOK_URL,
                        body,
                        content_type="application/json",
                        headers={"Stripe-Signature": signature},
                    )
                )
            return responses

    return Relay()


class Effects:
    """What the money path did, read back from the receipts' history log: ("succeeded", gift)
    for each receipt issued for a newly paid gift, ("refunded", gift) for each receipt a refund
    voided. Compares like the list it reads, read afresh each time."""

    def _read(self):
        from wagtail.models import ModelLogEntry

        from crm.models import Receipt
        from crm.receipt_log_actions import ISSUE, VOID

        seen = []
        entries = ModelLogEntry.objects.filter(action__in=(ISSUE, VOID)).order_by("pk")
        for entry in entries:
            if entry.action == ISSUE and not entry.data.get("replaces"):
                seen += [("succeeded", pk) for pk in entry.data["donations"]]
            elif entry.action == VOID:
                receipt = Receipt.objects.get(pk=entry.object_id)
                seen += [("refunded", gift.pk) for gift in receipt.donations.order_by("pk")]
        return seen

    def __eq__(self, other):
        return self._read() == list(other)

    def __len__(self):
        return len(self._read())

    def __iter__(self):
        return iter(self._read())

    def __repr__(self):
        return repr(self._read())


@pytest.fixture
def effects(campaign):
    """The campaign's network receipts every gift, so each payment and refund leaves a trace in
    the receipts' history (no listener: the money path calls receipts directly)."""
    network = campaign.network
    network.always_issue_receipts = True
    network.save(update_fields=["always_issue_receipts"])
    return Effects()


@pytest.fixture
def paid_gift(client, campaign, stripe_events, effects, django_capture_on_commit_callbacks):
    """A € 25,00 gift of Anna D'Alò paid on Checkout on the stand-in, its webhook applied:
    receipted (the network always issues receipts) and thanked by email."""
    from crm.models import Donation

    from .test_giving import FORM, _pay, give_url

    response = client.post(give_url(campaign), {**FORM, "codice_fiscale": "RSSMRA80A01H501U"})
    assert response.status_code == 303, response.content.decode()[:500]
    paid = _pay(response["Location"])
    assert paid.status_code == 303, (paid.status_code, paid.text[:500])
    stripe_events.wait_for("checkout.session.completed")
    with django_capture_on_commit_callbacks(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())
    donation = Donation.objects.get()
    assert donation.status == "succeeded"
    assert donation.receipts.get().status == "issued"
    return donation


@pytest.fixture
def hanging_server():
    """A TCP server that accepts connections and never answers a byte: a hanging provider."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted, stop = [], threading.Event()

    def serve():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


APPLY_TASK = "campaigns.webhooks.apply_event"


def run_queued(task_path=APPLY_TASK):
    """Be the worker of the database queue for `task_path`: run its ready tasks, in the queue's
    order, in this process (the test's transaction), and mark them done. Returns how many ran."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    for row in DBTaskResult.objects.ready().filter(task_path=task_path):
        row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        DBTaskResult.objects.filter(pk=row.pk).update(status="SUCCESSFUL")
        ran += 1
    return ran
