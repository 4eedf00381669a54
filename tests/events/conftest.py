"""Events fixtures: a charity dinner of the demo's "Oltre il ponte" network with three ticket
types, and the giving fixtures (the stand-in, its relayed webhooks) of tests/campaigns."""

import datetime

import pytest
from django.core.cache import cache, caches
from django.utils import timezone, translation

from tests.campaigns.conftest import (  # noqa: F401 (fixtures)
    deliver,
    stripe_events,
)


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


def make_event(network_page, *, slug="cena-di-primavera", quota=50, **fields):
    from events.models import EventPage, TicketType

    event = EventPage(
        title=fields.pop("title", "Cena di primavera"),
        slug=slug,
        starts_at=timezone.now() + datetime.timedelta(days=20),
        place="Cascina Cuccagna, Milano",
        intro="Una cena per il doposcuola.",
        ticket_types=[
            TicketType(name="Adulto", kind="fixed", price_cents=2500, quota=quota),
            TicketType(name="Sostenitore", kind="pwyw", price_cents=3000),
            TicketType(name="Bambino", kind="free", price_cents=0, quota=20),
        ],
        **fields,
    )
    network_page.add_child(instance=event)
    event.save_revision().publish()
    return EventPage.objects.get(pk=event.pk)


@pytest.fixture
def event(demo):
    from cms.models import NetworkPage

    network_page = NetworkPage.objects.get(network=demo["oltre-il-ponte"])
    return make_event(network_page)


@pytest.fixture
def types(event):
    return {t.name: t for t in event.ticket_types.all()}
