"""A visitor on a phone opens the home page and a network's story."""

import pytest
from PIL import Image


@pytest.mark.django_db(transaction=True)
def test_visitor_reads_home_and_network_story(live_server, demo, page, screenshot):
    from urllib.parse import urlsplit

    from wagtail.models import Site

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text().startswith("Trama")
    assert page.get_by_role("link", name="Oltre il Ponte").is_visible()
    home_shot = screenshot("home")

    page.get_by_role("link", name="Comunità Valle Serena").click()
    page.wait_for_url("**/valle-serena/")
    assert page.locator("h1").inner_text() == "Comunità Valle Serena"
    assert page.get_by_text("Unione dei Comuni della Val Seriana").is_visible()
    network_shot = screenshot("network-page")

    for shot in (home_shot, network_shot):
        with Image.open(shot) as image:
            assert image.width == 390 and image.height > 800


@pytest.mark.django_db(transaction=True)
def test_the_inline_stylesheet_and_first_images_pass_the_pages_policy(live_server, demo, page):
    """The stylesheet and the first image come inside the page (issue 21): the browser applies
    the one and shows the other under the strict policy, with nothing refused."""
    from urllib.parse import urlsplit

    from wagtail.models import Site

    from campaigns.models import CampaignPage

    Site.objects.update(hostname="localhost", port=urlsplit(live_server.url).port)
    campaign = CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")
    page.add_init_script(
        "window.__refused = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__refused.push(`${e.violatedDirective} ${e.blockedURI}`));"
    )
    for path, first_image in (("/", ".card img"), (campaign.url, "img.hero-image")):
        for visit in ("rendered", "from the page cache"):
            page.goto(live_server.url + path)
            # the site's colours and type: the inline stylesheet applies
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(255, 253, 248)", (path, visit)
            assert page.locator(".brand").evaluate("e => getComputedStyle(e).fontWeight") == "800"
            # the first image, from its data: address, is decoded and shown
            image = page.locator(first_image).first
            assert image.evaluate("e => e.currentSrc.startsWith('data:image/webp')"), path
            assert image.evaluate("e => e.complete && e.naturalWidth > 0"), path
            assert page.evaluate("window.__refused") == [], (path, visit)
