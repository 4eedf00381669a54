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
