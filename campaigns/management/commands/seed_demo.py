"""Seed a realistic demo: two networks with their issuing entities, partners, story pages,
campaigns, and one communicator and one treasurer each, plus a superuser. Valle Serena also
has a partner entity (issue 26) with its own Stripe Connect account (on the stand-in, objects
are made for any `acct_` id) and treasurer, and a campaign whose gifts it receives.

Safe to run again: everything is looked up by a stable key before being created.
"""

import io
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.images.models import Image
from wagtail.models import Collection, Locale, Page, Site

from campaigns.models import CampaignPage
from cms.models import HomePage, NetworkPage, NewsIndexPage, NewsPage, StandardPage
from crm.models import IssuingEntity, Network, Partner

from ..demo_data import NETWORKS, STORY


def privacy_notice(network):
    """A short privacy notice for donors (art. 13 Reg. UE 2016/679), as StreamField data."""
    holder = (
        f"{network.legal_name}, {network.street_address}, {network.postal_code} "
        f"{network.city}, codice fiscale {network.codice_fiscale}"
    )
    contact = network.email or "la nostra sede"
    sections = [
        ("Chi tratta i tuoi dati", f"<p>Titolare del trattamento è {holder}.</p>"),
        (
            "Quali dati e perché",
            "<p>Trattiamo nome, cognome, email e, se chiedi la ricevuta, codice fiscale e "
            "indirizzo, per registrare la tua donazione, emettere la ricevuta valida ai fini "
            "fiscali e, se lo hai scelto, inviarti notizie sui nostri progetti. La base "
            "giuridica è l'esecuzione della donazione e gli obblighi di legge (art. 6.1 b e c "
            "GDPR); per la newsletter e la menzione pubblica, il tuo consenso, che puoi "
            "revocare in ogni momento.</p>",
        ),
        (
            "Pagamenti",
            "<p>I pagamenti sono gestiti da Stripe: non vediamo né conserviamo i dati della "
            "tua carta.</p>",
        ),
        (
            "Per quanto tempo",
            "<p>Conserviamo i dati delle donazioni e delle ricevute per 10 anni, come "
            "richiesto dalle norme fiscali e contabili; i dati per la newsletter fino alla "
            "revoca del consenso.</p>",
        ),
        (
            "I tuoi diritti",
            "<p>Puoi chiedere accesso, rettifica, cancellazione, limitazione e portabilità "
            f"dei tuoi dati, e opporti al trattamento, scrivendo a {contact}. Puoi anche "
            "proporre reclamo al Garante per la protezione dei dati personali "
            "(www.garanteprivacy.it).</p>",
        ),
    ]
    body = []
    for heading, text in sections:
        body += [("heading", {"text": heading, "level": "h2"}), ("paragraph", text)]
    return body


def _hero_image(title, colour, collection):
    existing = Image.objects.filter(title=title).first()
    if existing:
        return existing
    picture = PILImage.new("RGB", (1600, 700), colour)
    draw = ImageDraw.Draw(picture)
    for i in range(0, 1600, 40):  # a woven pattern: "trama" is the weft of a fabric
        draw.line([(i, 0), (i + 700, 700)], fill=tuple(min(255, c + 30) for c in colour), width=6)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return Image.objects.create(
        title=title,
        file=ImageFile(buffer, name=f"{title.lower().replace(' ', '-')}.png"),
        collection=collection,
    )


def _recreate_roots():
    """What Wagtail's migrations seed (locale, root page, root collection), gone from a database
    flushed between transactional tests."""
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    return Page.add_root(instance=Page(title="Root", slug="root"))


class Command(BaseCommand):
    help = "Seed the demo networks, pages, campaigns and people (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        home = self._home()
        people = [("admin", "trama-admin", None, None)]
        self._user("admin", "trama-admin", superuser=True)
        for spec in NETWORKS:
            network = self._network(spec)
            page = self._network_page(home, network, spec)
            self._privacy(page, network)
            self._campaign(page, network, spec)
            self._news(page)
            slug = spec["slug"]
            if "partner_entity" in spec:
                entity = self._partner_entity(network, spec["partner_entity"])
                self._campaign(page, network, spec, spec["partner_campaign"], entity)
                # Not "tesoreria-…": that prefix names the networks' treasurers.
                entity_treasurer = self._user("ponte-dei-colori-tesoreria", f"demo-{slug}-ptes")
                entity_treasurer.groups.add(entity.treasurers_group)
                people.append(
                    (entity_treasurer.username, f"demo-{slug}-ptes", "treasurer", entity.legal_name)
                )
            communicator = self._user(f"comunicazione-{slug}", f"demo-{slug}-com")
            communicator.groups.add(network.communicators_group)
            treasurer = self._user(f"tesoreria-{slug}", f"demo-{slug}-tes")
            treasurer.groups.add(network.treasurers_group)
            people += [
                (communicator.username, f"demo-{slug}-com", "communicator", network.name),
                (treasurer.username, f"demo-{slug}-tes", "treasurer", network.name),
            ]
        self.stdout.write(self.style.SUCCESS("Demo ready. Sign in at /admin/ with:"))
        for username, password, role, network_name in people:
            who = f"{role} of {network_name}" if role else "superuser"
            self.stdout.write(f"  {username:32} {password:26} {who}")

    def _home(self):
        home = HomePage.objects.first()
        if home:
            return home
        root = Page.get_first_root_node() or _recreate_roots()
        home = root.add_child(
            instance=HomePage(
                title="Trama · reti di welfare di comunità",
                slug="trama",
                intro="<p>Le reti territoriali raccontano cosa fanno e raccolgono fondi insieme. "
                "Scegli una rete e sostieni un progetto.</p>",
            )
        )
        Site.objects.update_or_create(
            is_default_site=True,
            defaults={"hostname": "localhost", "port": 80, "root_page": home, "site_name": "Trama"},
        )
        # The initial Wagtail welcome page is no longer needed.
        Page.objects.filter(depth=2, slug="home").exclude(pk=home.pk).delete()
        return home

    def _network(self, spec):
        network = Network.objects.filter(slug=spec["slug"]).first()
        if network is None:
            network = Network(slug=spec["slug"], name=spec["name"], **spec["entity"])
            network.full_clean()
            network.save()
            for order, (name, role) in enumerate(spec["partners"]):
                Partner.objects.create(network=network, name=name, role=role, sort_order=order)
        return network

    def _network_page(self, home, network, spec):
        page = NetworkPage.objects.filter(network=network).first()
        if page:
            return page
        return home.add_child(
            instance=NetworkPage(
                title=spec["name"],
                slug=spec["slug"],
                network=network,
                tagline=spec["tagline"],
                hero_image=_hero_image(spec["name"], spec["colour"], network.collection),
                body=STORY,
            )
        )

    def _partner_entity(self, network, fields):
        entity = IssuingEntity.objects.filter(
            network=network, receipt_series=fields["receipt_series"]
        ).first()
        if entity is None:
            entity = IssuingEntity(network=network, **fields)
            entity.full_clean()
            entity.save()
        return entity

    def _campaign(self, network_page, network, spec, campaign=None, entity=None):
        title, goal_cents, intro = campaign or spec["campaign"]
        if CampaignPage.objects.child_of(network_page).filter(title=title).exists():
            return
        today = timezone.localdate()
        network_page.add_child(
            instance=CampaignPage(
                title=title,
                intro=intro,
                goal_cents=goal_cents,
                starts_on=today - timedelta(days=20),
                ends_on=today + timedelta(days=60),
                hero_image=_hero_image(title, spec["colour"], network.collection),
                body=[
                    (
                        "paragraph",
                        f"<p>{intro} Ogni euro raccolto va al progetto; a fine "
                        "campagna pubblichiamo il rendiconto.</p>",
                    )
                ],
                thank_you_text="<p>Grazie! Il tuo dono fa la differenza.</p>",
                issuing_entity=entity,
                suggested_amounts=spec.get("suggested_amounts", "10 25 50 100"),
                monthly_offered=True,
                donor_wall=True,
                updates=[
                    (
                        "update",
                        {
                            "date": today - timedelta(days=5),
                            "title": "Siamo partiti!",
                            "text": "<p>Grazie ai primi donatori abbiamo già firmato "
                            "l'accordo con le scuole del quartiere.</p>",
                        },
                    )
                ],
            )
        )

    def _privacy(self, network_page, network):
        """The network's privacy notice (art. 13 GDPR), linked from its donation forms."""
        if StandardPage.objects.child_of(network_page).filter(slug="privacy").exists():
            return
        network_page.add_child(
            instance=StandardPage(
                title="Informativa privacy per donatrici e donatori",
                slug="privacy",
                body=privacy_notice(network),
            )
        )

    def _news(self, network_page):
        index = NewsIndexPage.objects.child_of(network_page).first()
        if index is None:
            index = network_page.add_child(instance=NewsIndexPage(title="Notizie", slug="notizie"))
        if not NewsPage.objects.child_of(index).exists():
            index.add_child(
                instance=NewsPage(
                    title="Inaugurato il nuovo spazio di comunità",
                    date=timezone.localdate(),
                    summary="Sabato abbiamo aperto il nuovo spazio: più di cento persone.",
                    body=[
                        (
                            "paragraph",
                            "<p>Grazie a tutti i volontari che hanno reso possibile "
                            "la giornata.</p>",
                        )
                    ],
                )
            )

    def _user(self, username, password, superuser=False):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@trama.local",
                "is_staff": superuser,
                "is_superuser": superuser,
            },
        )
        if created:
            user.set_password(password)
            user.save()
        return user
