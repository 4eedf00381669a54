"""The owner of a personal page is told, once, when the network's team makes it public: the
confirmation page promised "we will write to you", in their language, with the page's
address to share."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from events import fundraisers
from events.models import Fundraiser
from events.tokens import confirm_token
from tests.campaigns.conftest import campaign  # noqa: F401
from tests.events.test_fundraisers import PAGE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("it", "La tua pagina “Corro per l'asilo” è pubblica", "Condividila"),
        ("en", "Your page “Corro per l'asilo” is public", "Share it"),
    ],
)
def test_the_owner_is_told_once_when_their_page_is_made_public(
    client,
    campaign,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
    language,
    subject,
    words,
):
    # found walking the demo: "we will write to you", and nobody wrote when the page went public
    with translation.override(language):
        start = reverse("events:fundraiser_start", args=[campaign.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(start, {**PAGE, "title": "Corro per l'asilo"})
    page = Fundraiser.objects.get()
    fundraisers.confirm(confirm_token(page))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert fundraisers.moderate(page.pk, "approve", by="comunicazione")

    (told,) = mail.outbox
    assert told.to == ["luca@example.org"]
    assert told.subject == subject
    with translation.override(language):
        address = settings.SITE_URL + reverse("events:fundraiser", args=[page.slug])
    assert address in told.body and words in told.body

    # hidden, then public again: not told twice
    with django_capture_on_commit_callbacks(execute=True):
        fundraisers.moderate(page.pk, "hide", by="comunicazione")
        fundraisers.moderate(page.pk, "approve", by="comunicazione")
    assert len(mail.outbox) == 1


def test_a_page_closed_before_it_was_public_tells_nobody(
    client,
    campaign,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("events:fundraiser_start", args=[campaign.pk]), PAGE)
    page = Fundraiser.objects.get()
    fundraisers.confirm(confirm_token(page))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert fundraisers.moderate(page.pk, "close", by="comunicazione")
    assert not mail.outbox
