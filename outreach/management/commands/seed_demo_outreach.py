"""The demo's fundraising communication (run by `make demo` after `seed_demo`): per network, three
donors who confirmed the newsletter (each with a past gift, so `{ultimo_dono}` reads as in real
life), the segment of them, and a draft message to them, so a
newcomer can preview, test and send one; and an observer of the community of practice, with
both networks taking part. Idempotent: running it again adds nothing twice."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page

from crm.models import Donation, Donor, Network
from crm.offline import record_offline_gift
from outreach.community import OBSERVERS, set_taking_part, takes_part
from outreach.models import Message, Segment

DONORS = (
    ("Lucia", "Ferri", "it", 5000),
    ("Paolo", "Conti", "it", 2500),
    ("Emma", "Walsh", "en", 10000),
)
SEGMENT = "Iscritti alla newsletter"
OBSERVER = ("osservatorio", "demo-osservatorio")  # username, password
SUBJECT = "{nome}, ecco cosa abbiamo fatto insieme"


def campaign_of(network):
    """The network's first live campaign page (found by content type: outreach knows no
    campaigns code)."""
    page = getattr(network, "page", None)
    if page is None:
        return None
    return (
        Page.objects.descendant_of(page)
        .live()
        .filter(content_type__app_label="campaigns", content_type__model="campaignpage")
        .first()
    )


class Command(BaseCommand):
    help = "Seed demo donors who receive news, a segment and a draft message (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        for network in Network.objects.order_by("pk"):
            campaign = campaign_of(network)
            self._donors(network, campaign)
            segment, _created = Segment.objects.get_or_create(
                network=network, name=SEGMENT, defaults={"consent": Segment.Consent.CONSENTED}
            )
            if not Message.objects.filter(network=network, segment=segment).exists():
                Message.objects.create(
                    network=network,
                    segment=segment,
                    campaign=campaign,
                    subject=SUBJECT,
                    preheader="Tre numeri e un grazie, da {campagna}.",
                    body=self._body(campaign),
                    subject_en="{nome}, here is what we did together",
                    preheader_en="Three figures and a thank-you.",
                    body_en=self._body(campaign, english=True),
                )
        self._observer()
        self.stdout.write("Demo messages ready: Messages to donors, in the admin.")

    def _observer(self):
        """The funding foundation's observer (README, "Community of practice"), and both demo
        networks taking part, as their treasurers would choose."""
        user, created = get_user_model().objects.get_or_create(
            username=OBSERVER[0], defaults={"email": f"{OBSERVER[0]}@trama.local"}
        )
        if created:
            user.set_password(OBSERVER[1])
            user.save()
        user.groups.add(Group.objects.get(name=OBSERVERS))
        admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        for network in Network.objects.order_by("pk"):
            if not takes_part(network):
                set_taking_part(network, True, admin)
        self.stdout.write(
            f"  {OBSERVER[0]:32} {OBSERVER[1]:26} observer of the community of practice"
        )

    def _donors(self, network, campaign):
        domain = f"{network.slug}.example"
        for first, last, language, cents in DONORS:
            email = f"{first.lower()}.{last.lower()}@{domain}"
            donor, _created = Donor.objects.get_or_create(
                network=network,
                email=email,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "language": language,
                    "newsletter": True,
                    "newsletter_confirmed_at": timezone.now(),
                    "source": "demo",
                },
            )
            if not Donation.objects.filter(donor=donor).exists():
                # A past bank transfer: recorded as an import (no confirmation email).
                record_offline_gift(
                    network=network,
                    donor=donor,
                    amount_cents=cents,
                    received_on=timezone.localdate() - timedelta(days=40),
                    method=Donation.Method.BANK_TRANSFER,
                    campaign=campaign,
                    confirm=False,
                )

    def _body(self, campaign, english=False):
        if english:
            text = (
                "<p>Dear {nome}, thank you: your last gift ({ultimo_dono}) kept the after-school "
                "club open all autumn.</p>"
            )
            figures = [("38", "children every afternoon"), ("12", "volunteers")]
            label = "Give again"
        else:
            text = (
                "<p>Cara/o {nome}, grazie: il tuo ultimo dono ({ultimo_dono}) ha tenuto aperto "
                "il doposcuola per tutto l'autunno.</p>"
            )
            figures = [("38", "bambini ogni pomeriggio"), ("12", "volontari")]
            label = "Dona ancora"
        body = [
            {"type": "paragraph", "value": text},
            {
                "type": "key_figures",
                "value": {
                    "title": "",
                    "figures": [{"figure": f, "label": what} for f, what in figures],
                },
            },
        ]
        if campaign is not None:
            body.append(
                {"type": "button", "value": {"label": label, "page": campaign.pk, "url": ""}}
            )
        return body
