"""A communicator writes an update to the donors of a segment, previews it at phone width, sends
a test to themselves, then sends it; a donor who received it unsubscribes from its link."""

import re
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_donor_portal import wait_for_mail
from tests.e2e.test_treasurer import log_in

COMMUNICATOR = ("comunicazione-valle-serena", "demo-valle-serena-com")
SENTENCE = "Grazie {nome}: da lunedì il pulmino porta gli anziani al centro diurno."


@pytest.mark.django_db(transaction=True)
def test_a_communicator_writes_previews_tests_and_sends_an_update(
    live_server, demo, browser, page, screenshot, mailoutbox, settings
):
    from django.utils import timezone
    from wagtail.models import Site

    from crm.models import Donor
    from outreach.models import Delivery, Message, Segment

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    settings.SITE_URL = base = live_server.url
    # given two donors of Valle Serena who confirmed the newsletter, and one who did not
    network = demo["valle-serena"]
    for first, consented in (("Anna", True), ("Bruno", True), ("Carla", False)):
        Donor.objects.create(
            network=network,
            first_name=first,
            last_name="Rossi",
            email=f"{first.lower()}@example.org",
            newsletter=consented,
            newsletter_confirmed_at=timezone.now() if consented else None,
        )
    Segment.objects.create(network=network, name="Tutti i donatori")

    # when the communicator, at a desk, writes the update
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    admin = desk.new_page()
    try:
        log_in(admin, base, *COMMUNICATOR)
        admin.goto(base + "/admin/outreach/messages/")
        admin.locator('a[href$="/admin/outreach/messages/new/"]').first.click()
        admin.wait_for_url("**/outreach/messages/new/")
        admin.select_option("#id_segment", label="Tutti i donatori")
        admin.fill("#id_subject", "Il pulmino è arrivato")
        admin.locator("button.c-sf-add-button").first.click()
        admin.get_by_role("option", name=re.compile("Testo|Text")).first.click()
        editor = admin.locator(".public-DraftEditor-content:visible").first
        editor.wait_for()
        editor.click()
        # Inserted at once, as a paste or a phone's keyboard suggestion does: Draft.js (under
        # Draftail) drops or reorders keys sent one by one faster than it renders them, which on
        # a busy machine left a sentence the preview below never showed.
        admin.keyboard.insert_text(SENTENCE)
        # Draftail writes the text to the form field a moment later: all of it, in order
        admin.wait_for_function(
            "text => document.querySelector('input[name=\"body-0-value\"]').value.includes(text)",
            arg=SENTENCE,
        )
        admin.locator("#w-editor-form footer button[type=submit]").first.click()
        admin.wait_for_url("**/outreach/messages/inspect/*/")
        message = Message.objects.get(subject="Il pulmino è arrivato")
        assert message.network == network and len(message.body) == 1

        # and previews it on a phone, in the editor's preview panel
        admin.goto(f"{base}/admin/outreach/messages/edit/{message.pk}/")
        admin.locator('[data-side-panel-toggle="preview"]').click()
        admin.locator('.w-preview__size-button:has(input[value="mobile"])').click()
        # (while it reloads, Wagtail keeps the old iframe and loads a "proxy" one beside it)
        preview = ".w-preview__iframe:not(.w-preview__proxy)"
        frame = admin.frame_locator(preview)
        frame.get_by_text("da lunedì il pulmino porta gli anziani").wait_for()
        width = admin.locator(preview).evaluate("e => e.getBoundingClientRect().width")
        assert width < 500
        ARTIFACTS.mkdir(exist_ok=True)
        admin.screenshot(path=str(ARTIFACTS / "message-preview-phone.png"))

        # and sends a test to themselves
        admin.goto(f"{base}/admin/outreach/messages/inspect/{message.pk}/")
        admin.locator(f'form[action$="/outreach/messages/{message.pk}/test/"] button').click()
        test = wait_for_mail(
            mailoutbox, lambda m: m.to == ["comunicazione-valle-serena@trama.local"]
        )
        assert "Il pulmino è arrivato" in test.subject
        assert "da lunedì il pulmino" in test.body

        # then sends it to the segment, after the question
        admin.locator(f'a[href$="/outreach/messages/{message.pk}/send/"]').click()
        admin.wait_for_url(f"**/outreach/messages/{message.pk}/send/")
        question = admin.locator("main h2").inner_text()
        assert "Il pulmino è arrivato" in question and "2" in question
        admin.locator("main form button[type=submit]").first.click()
        admin.wait_for_url(f"**/outreach/messages/inspect/{message.pk}/")
        anna = wait_for_mail(mailoutbox, lambda m: m.to == ["anna@example.org"])
        wait_for_mail(mailoutbox, lambda m: m.to == ["bruno@example.org"])
        assert not [m for m in mailoutbox if m.to == ["carla@example.org"]]
        assert "Grazie Anna: da lunedì" in anna.body
        assert Delivery.objects.filter(message=message).count() == 2
        admin.goto(base + "/admin/outreach/messages/")
        assert "Il pulmino è arrivato" in admin.locator("table.listing").inner_text()
        admin.screenshot(path=str(ARTIFACTS / "messages-list.png"))
        admin.goto(f"{base}/admin/outreach/messages/{message.pk}/results/")
        admin.screenshot(path=str(ARTIFACTS / "message-results.png"), full_page=True)
    finally:
        desk.close()

    # and Anna, on her phone, unsubscribes from the link in the email
    (link,) = set(re.findall(r"http://\S+/news/unsubscribe/\S+/", anna.body))
    page.goto(link)
    page.locator(".thanks form button[type=submit]").click()
    page.wait_for_selector('[data-testid="unsubscribe-status"][data-status="done"]')
    screenshot("message-unsubscribed")
    anna_record = Donor.objects.get(email="anna@example.org")
    assert anna_record.newsletter is False
    assert Delivery.objects.get(message=message, to="anna@example.org").unsubscribed_at


@pytest.mark.django_db(transaction=True)
def test_the_form_offers_only_the_chosen_networks_segments_and_campaigns(
    live_server, demo, browser
):
    from campaigns.models import CampaignPage
    from outreach.models import Segment

    def campaigns_of(slug):
        pages = CampaignPage.objects.descendant_of(demo[slug].page).order_by("path")
        return [page.title for page in pages]

    Segment.objects.create(network=demo["valle-serena"], name="Valle: tutti")
    Segment.objects.create(network=demo["oltre-il-ponte"], name="Ponte: tutti")
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    admin = desk.new_page()
    try:
        # a person of both networks (here the superuser) writes a new message
        log_in(admin, live_server.url, "admin", "trama-admin")
        admin.goto(live_server.url + "/admin/outreach/messages/new/")
        admin.select_option("#id_network", label=demo["oltre-il-ponte"].name)

        def offered(select):
            return admin.eval_on_selector_all(
                f"{select} option[data-network]",
                "options => options.filter(o => !o.hidden && !o.disabled).map(o => o.text)",
            )

        # then only that network's segments and campaigns are offered
        assert offered("#id_segment") == ["Ponte: tutti"]
        assert offered("#id_campaign") == campaigns_of("oltre-il-ponte")
        admin.select_option("#id_network", label=demo["valle-serena"].name)
        assert offered("#id_segment") == ["Valle: tutti"]
        assert offered("#id_campaign") == campaigns_of("valle-serena")
    finally:
        desk.close()
