"""The webhook's WSGI exit (campaigns.webhook_exit, issue 21): a verified delivery is stored and
answered before Django's stack; everything else goes to Django. Each delivery here is sent
both ways, through the exit (in front of Django's own WSGI handler, as config/wsgi.py puts it)
and through Django alone, and must give the same status, body and stored rows."""

import datetime
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import OperationalError, close_old_connections
from django.test import RequestFactory
from django_tasks_db.models import DBTaskResult

from campaigns import webhook_exit
from campaigns.models import StripeEvent
from crm.models import Donation, DonorEmail, Receipt

from . import payloads
from .conftest import APPLY_TASK, WEBHOOK_URL, event, run_queued, sign


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class Django:
    """Django's WSGI handler, counting the requests it answers. Like Django's test client, it
    keeps the test's transaction's connection open at the end of a request."""

    def __init__(self):
        self.handler = WSGIHandler()
        self.answered = 0

    def __call__(self, environ, start_response):
        self.answered += 1
        return self.handler(environ, start_response)


@pytest.fixture
def routes(settings):
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    django = Django()
    yield {"exit": webhook_exit.StripeWebhookExit(django), "django": django}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def post(app, raw, signature, **extra):
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    environ = (
        RequestFactory()
        .post(WEBHOOK_URL, raw, content_type="application/json", headers=headers, **extra)
        .environ
    )
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return answer["status"], body


def signed(app, body, settings, signature=...):
    raw = json.dumps(body).encode()
    if signature is ...:
        signature = sign(raw, settings.STRIPE_WEBHOOK_SECRET)
    return post(app, raw, signature)


def stored(event_id):
    """The stored event, as it would look whichever way it came (ids and times left out)."""
    row = StripeEvent.objects.filter(event_id=event_id).first()
    if row is None:
        return None
    return {
        "type": row.type,
        "account": row.account,
        "network": row.network_id,
        "payload": row.payload,
        "created as sent": row.created
        == datetime.datetime.fromtimestamp(row.payload["created"], tz=datetime.UTC),
        "outcome": row.outcome,
        "error": row.error,
        "attempts": row.attempts,
        "queued": row.queued_at is not None,
        "processed": row.processed_at is not None,
        "tasks": DBTaskResult.objects.filter(
            task_path=APPLY_TASK, args_kwargs__args=[event_id]
        ).count(),
    }


def _gift(pending_donation, n):
    donation = pending_donation(2500, codice_fiscale="RSSMRA80A01H501U", email=f"x{n}@example.org")
    completed = event(
        "checkout.session.completed", payloads.checkout_session(donation, pi=f"pi_test_exit{n}")
    )
    return donation, completed


def _same_but_ids(one, other):
    """Two stored events equal once their payloads (their own ids, their gifts') are put
    aside, but for the type."""
    a, b = dict(one), dict(other)
    a["payload"], b["payload"] = a.pop("payload")["type"], b.pop("payload")["type"]
    return a == b


def test_a_first_delivery_is_answered_by_the_exit_and_stored_as_django_stores_it(
    routes, pending_donation, effects, database_queue, settings
):
    # given two gifts paid, one delivery each: one through the exit, one through Django
    _first, through_exit = _gift(pending_donation, 1)
    _second, through_django = _gift(pending_donation, 2)
    # when each is delivered
    answers = [
        signed(routes["exit"], through_exit, settings),
        signed(routes["django"], through_django, settings),
    ]
    # then the exit answered its own without Django, the same answer as Django's
    assert routes["django"].answered == 1
    assert answers == [(200, b"ok"), (200, b"ok")]
    # and both events are stored alike: pending, their network, one apply task each
    exit_row, django_row = stored(through_exit["id"]), stored(through_django["id"])
    assert exit_row["payload"] == through_exit
    assert (exit_row["outcome"], exit_row["tasks"], exit_row["queued"]) == ("pending", 1, True)
    assert exit_row["network"] == _first.network_id
    assert _same_but_ids(exit_row, django_row)


@pytest.mark.parametrize("first", ["exit", "django"])
def test_a_repeated_delivery_is_answered_alike_and_adds_nothing(
    routes, pending_donation, effects, database_queue, settings, first
):
    # given a gift's payment delivered once
    _donation, completed = _gift(pending_donation, 3)
    assert signed(routes[first], completed, settings) == (200, b"ok")
    before = stored(completed["id"])
    # when Stripe delivers it again, both ways
    again = [signed(routes[way], completed, settings) for way in ("exit", "django")]
    # then both answer as the first time, and nothing is added
    assert again == [(200, b"ok"), (200, b"ok")]
    assert stored(completed["id"]) == before
    assert StripeEvent.objects.filter(event_id=completed["id"]).count() == 1


@pytest.mark.parametrize(
    "raw, signature",
    [
        pytest.param(None, "t=1,v1=" + "0" * 64, id="bad-signature"),
        pytest.param(None, None, id="no-signature"),
        pytest.param(b"{not json", ..., id="not-json"),
        pytest.param(b'["an", "array"]', ..., id="not-an-object"),
        pytest.param(b'{"object": "event", "type": "charge.refunded"}', ..., id="no-id"),
    ],
)
def test_a_delivery_refused_at_the_door_gets_the_same_400_both_ways(
    routes, pending_donation, effects, database_queue, settings, raw, signature
):
    # given a delivery that is forged, unsigned or not an event
    _donation, completed = _gift(pending_donation, 4)
    raw = raw if raw is not None else json.dumps(completed).encode()
    if signature is ...:
        signature = sign(raw, settings.STRIPE_WEBHOOK_SECRET)
    # when it is sent through the exit, then straight to Django
    through_exit = post(routes["exit"], raw, signature)
    through_django = post(routes["django"], raw, signature)
    # then the exit left it to Django, whose view refuses it, the same way both times
    assert routes["django"].answered == 2
    assert through_exit == through_django == (400, b"invalid payload or signature")
    # and nothing is stored
    assert not StripeEvent.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_delivery_to_a_host_we_do_not_serve_gets_djangos_400_both_ways(
    routes, pending_donation, effects, database_queue, settings
):
    # given a signed delivery sent with a Host header not in ALLOWED_HOSTS
    _donation, completed = _gift(pending_donation, 7)
    raw = json.dumps(completed).encode()
    signature = sign(raw, settings.STRIPE_WEBHOOK_SECRET)
    # when it is sent through the exit, then straight to Django
    answers = [post(routes[way], raw, signature, HTTP_HOST="evil.example") for way in routes]
    # then Django refused it both times (DisallowedHost), and nothing is stored
    assert routes["django"].answered == 2
    assert answers[0] == answers[1] and answers[0][0] == 400
    assert not StripeEvent.objects.exists()


def test_an_event_of_a_type_we_do_not_handle_is_kept_alike(
    routes, database_queue, settings, campaign
):
    # given two events of a type without a handler
    ignored = [
        event("customer.created", {"id": f"cus_exit{n}", "object": "customer"}) for n in (1, 2)
    ]
    # when one comes through the exit and one through Django
    answers = [
        signed(routes[way], body, settings) for way, body in zip(("exit", "django"), ignored)
    ]
    # then both are acknowledged and kept as ignored, with no task
    assert answers == [(200, b"ok"), (200, b"ok")]
    rows = [stored(body["id"]) for body in ignored]
    assert rows[0]["outcome"] == "ignored" and rows[0]["tasks"] == 0 and rows[0]["processed"]
    assert _same_but_ids(rows[0], rows[1])


def test_an_error_while_storing_falls_through_to_django_which_stores_it_once(
    routes, pending_donation, effects, database_queue, settings, monkeypatch
):
    # given the exit's store failing (the database connection lost under it)
    def lost(request):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(webhook_exit, "_acknowledge", lost)
    _donation, completed = _gift(pending_donation, 5)
    # when a payment is delivered through the exit
    answer = signed(routes["exit"], completed, settings)
    # then Django's path answered it and stored it, once
    assert routes["django"].answered == 1
    assert answer == (200, b"ok")
    assert stored(completed["id"])["tasks"] == 1


def test_duplicates_either_way_and_out_of_order_apply_the_gift_exactly_once(
    routes, pending_donation, effects, database_queue, settings
):
    # given a gift's payment delivered five times, alternately through the exit and Django,
    # with a refused forgery of it in between
    donation, completed = _gift(pending_donation, 6)
    ways = ["exit", "django", "exit", "exit", "django"]
    answers = [signed(routes[way], completed, settings) for way in ways]
    forged = signed(routes["exit"], completed, settings, signature="t=1,v1=" + "0" * 64)
    # when the worker runs every task queued
    ran = run_queued()
    # then one task was queued, the gift recorded, receipted and thanked once
    assert answers == [(200, b"ok")] * 5 and forged[0] == 400
    assert ran == 1
    donation.refresh_from_db()
    assert donation.status == "succeeded"
    assert Receipt.objects.filter(donations=donation).count() == 1
    assert DonorEmail.objects.filter(donation=donation).count() == 1
    assert effects == [("succeeded", donation.pk)]
    # and the payment delivered again after it was applied changes nothing
    assert signed(routes["exit"], completed, settings) == (200, b"ok")
    assert run_queued() == 0
    assert StripeEvent.objects.get(event_id=completed["id"]).attempts == 1
    assert Donation.objects.filter(pk=donation.pk, status="succeeded").count() == 1


def test_other_requests_go_to_django_untouched(routes, settings, campaign):
    # given the exit in front of Django
    # when something else than a POST of the webhook's address comes
    environ = RequestFactory().get(WEBHOOK_URL).environ
    statuses = []
    chunks = routes["exit"](environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(chunks)
    chunks.close()
    # then Django answers it (the view allows POST only)
    assert routes["django"].answered == 1
    assert statuses == ["405 Method Not Allowed"]
