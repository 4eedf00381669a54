"""An account guessed from many addresses, in a real browser: its sign-in asks the proof of
work, the browser solves it (static/js/proof_of_work.js) and the owner signs in."""

import pytest
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth import get_user_model

PASSWORD = "una-Password-lunga-42"


@pytest.mark.django_db(transaction=True)
def test_the_owner_of_an_account_under_guessing_signs_in_after_the_browsers_check(
    live_server, page, screenshot
):
    # given an account that failed sign-ins from many addresses (a botnet's guesses)
    get_user_model().objects.create_superuser("tesoriera", "tesoriera@example.org", PASSWORD)
    AccessFailureLog.objects.bulk_create(
        AccessFailureLog(username="tesoriera", ip_address=f"198.51.100.{n}", user_agent="bot")
        for n in range(settings.SIGN_IN_CHALLENGE_FAILURES)
    )
    base = live_server.url

    # when its owner signs in
    page.goto(base + "/admin/login/")
    page.fill("#id_username", "tesoriera")
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").first.click()

    # then the form asks for the password again, with the check running
    page.wait_for_selector("[data-testid=challenge]")
    assert "/admin/login/" in page.url
    screenshot("sign-in-challenge")
    # and with it the owner is in: the browser solved it and sent the form
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(base + "/admin/", timeout=60_000)
