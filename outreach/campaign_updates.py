"""A campaign's update as a message: the latest update published on a campaign page becomes a
draft written to that campaign's donors who confirmed the newsletter (no segment)."""

from django.utils import translation
from django.utils.translation import gettext

from .models import Message


class NoUpdate(Exception):
    """The campaign page has no update to send."""


def latest_update(page):
    """The campaign page's latest update (by date; of two on one day, the later), or None."""
    updates = [child.value for child in getattr(page.specific, "updates", None) or []]
    if not updates:
        return None
    return max(enumerate(updates), key=lambda pair: (pair[1]["date"], pair[0]))[1]


def draft_from_campaign_update(page, *, network, user):
    """A draft message of `network` made of the campaign's latest update: its title as the
    subject, its text, and a button to the campaign page. Raises NoUpdate."""
    update = latest_update(page)
    if update is None:
        raise NoUpdate
    with translation.override("it"):
        label = gettext("Support the campaign")
    return Message.objects.create(
        network=network,
        subject=update["title"],
        body=[
            {"type": "paragraph", "value": getattr(update["text"], "source", update["text"])},
            {"type": "button", "value": {"label": label, "page": page.pk, "url": ""}},
        ],
        campaign=page,
        created_by=user,
    )
