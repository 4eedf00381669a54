"""Signing in to the admin, attacked: password guessing on one account and spraying across many,
password-reset floods, logout forged by a link, and a stolen password without the phone.

Time is moved the way the libraries themselves measure it (the failed attempts' and the OTP
device's timestamps in the database), never by sleeping.
"""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.lockouts import ADDRESS_FAILURE_LIMIT, blocked_addresses, blocked_usernames
from tests.security.test_fourth_round_attacks import solve

LOGIN = "/admin/login/"
LOGOUT = "/admin/logout/"
RESET = "/admin/password_reset/"
TWO_STEP = "/admin/two-step/"
VERIFY = "/admin/two-step/verify/"
SECURITY = "/admin/sign-in-security/"
DONORS = "/admin/crm/donors/"
PASSWORD = "una-Password-lunga-42"


@pytest.fixture
def people(db, network_factory):
    """A network's treasurer and communicator, and a superuser, with known passwords."""
    network = network_factory("rete-accessi")
    users = get_user_model().objects
    treasurer = users.create_user("tesoriera", "tesoriera@example.org", PASSWORD)
    treasurer.groups.add(network.treasurers_group)
    communicator = users.create_user("comunicatore", "comunicatore@example.org", PASSWORD)
    communicator.groups.add(network.communicators_group)
    admin = users.create_superuser("admin", "admin@example.org", PASSWORD)
    return {"treasurer": treasurer, "communicator": communicator, "admin": admin}


def sign_in(client, username, password, ip="198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def age_failures(by):
    """Move every failed attempt back in time by `by` (what the cool-off measures)."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


# --- lockout -----------------------------------------------------------------------------------


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, people):
    # given an attacker who tries 30 passwords on the treasurer's account
    statuses = [sign_in(client, "tesoriera", f"guess-{n}").status_code for n in range(30)]

    # then the first failures are ordinary, and from the limit on the sign-in is blocked
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert set(statuses[limit - 1 :]) == {429}

    # when the right password comes next
    response = sign_in(client, "tesoriera", PASSWORD)

    # then it is refused too, with the translated locked-out page in the admin's look
    assert response.status_code == 429
    assert signed_in_as(client) is None
    page = response.content.decode()
    assert "Accesso temporaneamente bloccato" in page
    assert '<body id="wagtail" class="login' in page
    assert int(response["Retry-After"]) == settings.SIGN_IN_COOLOFF.total_seconds()


def test_the_lockout_lifts_by_itself_after_the_cool_off(client, people):
    # given a locked account (the attempts while blocked do not prolong the block)
    for n in range(8):
        sign_in(client, "tesoriera", f"guess-{n}")
    cooloff = settings.SIGN_IN_COOLOFF

    # when a minute short of the cool-off has passed, the right password is still refused
    age_failures(cooloff - datetime.timedelta(minutes=1))
    assert sign_in(client, "tesoriera", PASSWORD).status_code == 429

    # when the cool-off has passed
    age_failures(datetime.timedelta(minutes=2))
    response = sign_in(client, "tesoriera", PASSWORD)

    # then the right password signs in
    assert response.status_code == 302
    assert signed_in_as(client) == str(people["treasurer"].pk)


def test_spraying_many_accounts_from_one_address_blocks_the_address(client, people):
    # given one address trying one password on each of many accounts (most do not even exist),
    # up to the coarser limit of an address (an office may share one)
    names = ["mario", "lucia", "admin", "comunicatore", "direttore"]
    names += [f"utente-{n}" for n in range(ADDRESS_FAILURE_LIMIT - len(names))]
    for name in names:
        sign_in(client, name, "Estate2026!", ip="203.0.113.9")

    # then from that address even a correct sign-in of another account is refused
    assert sign_in(client, "tesoriera", PASSWORD, ip="203.0.113.9").status_code == 429
    # while the same account signs in from its own address
    assert sign_in(Client(), "tesoriera", PASSWORD, ip="192.0.2.44").status_code == 302


def test_guessing_one_account_from_many_addresses_stops_each_address_not_the_owner(client, people):
    """Issue 22: blocking the account itself let anyone keep its owner out for ever. Each
    address is stopped at its own limit; the owner signs in from theirs."""
    # given a botnet trying the admin's password from each of many addresses, to their limit
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(3):
        for guess in range(limit):
            sign_in(Client(), "admin", f"guess-{n}-{guess}", ip=f"203.0.113.{n + 20}")

    # then each of those addresses is stopped, even with the right password: the first two
    # blocked; the third, whose guesses came once the account was guessed from many addresses,
    # asked the proof of work first (its guesses without it tested nothing)
    for n in range(2):
        assert sign_in(Client(), "admin", PASSWORD, ip=f"203.0.113.{n + 20}").status_code == 429
    third = Client()
    asked = sign_in(third, "admin", PASSWORD, ip="203.0.113.22")
    assert asked.status_code == 200 and 'name="pow_puzzle"' in asked.content.decode()
    assert signed_in_as(third) is None
    # while the owner signs in from their own address, their browser solving the check
    asked = sign_in(client, "admin", PASSWORD, ip="192.0.2.99")
    assert signed_in_as(client) is None
    answer = solve(asked.content.decode())
    response = client.post(
        LOGIN, {"username": "admin", "password": PASSWORD, **answer}, REMOTE_ADDR="192.0.2.99"
    )
    assert response.status_code == 302
    assert signed_in_as(client) == str(people["admin"].pk)


def test_a_superuser_lifts_a_lockout_from_sign_in_security(client, people):
    # given the treasurer locked out after mistyping at the office, and an address that
    # sprayed passwords at other accounts
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "tesoriera", f"typo-{n}", ip="198.51.100.50")
    for n in range(ADDRESS_FAILURE_LIMIT):
        sign_in(Client(), f"utente-{n}", "Estate2026!", ip="203.0.113.66")
    assert sign_in(Client(), "tesoriera", PASSWORD, ip="198.51.100.50").status_code == 429
    assert sign_in(Client(), "comunicatore", PASSWORD, ip="203.0.113.66").status_code == 429

    # when a superuser opens Settings → Sign-in security
    client.force_login(people["admin"])
    page = client.get(SECURITY)
    assert page.status_code == 200
    for blocked in ("tesoriera", "198.51.100.50", "203.0.113.66"):
        assert blocked in page.content.decode()

    # and unblocks the account, then the address
    assert client.post(SECURITY, {"username": "tesoriera"}).status_code == 302
    assert client.post(SECURITY, {"ip_address": "203.0.113.66"}).status_code == 302

    # then both sign in again, without waiting for the cool-off
    assert sign_in(Client(), "tesoriera", PASSWORD, ip="198.51.100.50").status_code == 302
    assert sign_in(Client(), "comunicatore", PASSWORD, ip="203.0.113.66").status_code == 302
    assert blocked_usernames() == [] and blocked_addresses() == []


def test_only_superusers_reach_sign_in_security_and_bad_input_is_a_400(client, people):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "admin", f"guess-{n}")

    # a treasurer cannot see the screen nor lift a block (Wagtail sends them home)
    client.force_login(people["treasurer"])
    assert client.get(SECURITY).status_code == 302
    client.post(SECURITY, {"username": "admin"})
    assert AccessAttempt.objects.filter(username="admin").exists()

    # a superuser's malformed requests are clear 400s, not 500s
    client.force_login(people["admin"])
    assert client.post(SECURITY, {"ip_address": "not-an-ip'; --"}).status_code == 400
    assert client.post(SECURITY, {"two_step_off": "x"}).status_code == 400
    assert client.post(SECURITY, {}).status_code == 400


def test_axes_reset_commands_lift_a_lockout(client, people):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "tesoriera", f"guess-{n}", ip="198.51.100.60")
    call_command("axes_reset_username", "tesoriera")
    call_command("axes_reset_ip", "198.51.100.60")
    assert sign_in(client, "tesoriera", PASSWORD, ip="198.51.100.60").status_code == 302


# --- password reset ----------------------------------------------------------------------------


def test_a_password_reset_flood_sends_at_most_the_limit(client, people, mailoutbox):
    # given a script asking 20 reset emails for the treasurer, varying the address's case
    responses = [
        client.post(RESET, {"email": email}, REMOTE_ADDR=f"203.0.113.{n}")
        for n, email in enumerate(["tesoriera@example.org", "TESORIERA@example.org"] * 10)
    ]

    # then every answer is the same neutral "check your email" page
    assert {(r.status_code, r["Location"]) for r in responses} == {
        (302, "/admin/password_reset/done/")
    }
    # and only the per-address limit of emails went out
    assert len(mailoutbox) == 3
    assert all(message.to == ["tesoriera@example.org"] for message in mailoutbox)


def test_a_password_reset_flood_from_one_address_is_cut_off(client, db, mailoutbox):
    # given 15 real accounts, and one client asking a reset for each
    users = get_user_model().objects
    for n in range(15):
        users.create_user(f"utente{n}", f"utente{n}@example.org", PASSWORD)
    responses = [
        client.post(RESET, {"email": f"utente{n}@example.org"}, REMOTE_ADDR="203.0.113.200")
        for n in range(15)
    ]

    # then the client gets the same page each time, and emails stop at its limit (10 an hour)
    assert {r["Location"] for r in responses} == {"/admin/password_reset/done/"}
    assert len(mailoutbox) == 10
    # while another client may still ask for its own
    client.post(RESET, {"email": "utente14@example.org"}, REMOTE_ADDR="192.0.2.1")
    assert len(mailoutbox) == 11


def test_the_throttled_answer_is_the_unknown_address_answer(client, people, mailoutbox):
    # given a probe for an address with no account, and a flood for one that has one
    unknown = client.post(RESET, {"email": "nessuno@example.org"}, REMOTE_ADDR="192.0.2.2")
    for _ in range(5):
        throttled = client.post(RESET, {"email": "admin@example.org"}, REMOTE_ADDR="192.0.2.2")

    # then the throttled answer cannot be told from the unknown one (no account enumeration)
    assert (unknown.status_code, unknown["Location"]) == (
        throttled.status_code,
        throttled["Location"],
    )
    done = client.get(throttled["Location"])
    assert done.status_code == 200 and "se esiste un account" in done.content.decode().lower()
    assert len(mailoutbox) == 3


# --- logout ------------------------------------------------------------------------------------


def test_a_logout_link_does_not_sign_out_a_post_does(client, people):
    # given a signed-in treasurer
    client.force_login(people["treasurer"])

    # when a page elsewhere makes their browser GET /admin/logout/ (a link, an <img>)
    response = client.get(LOGOUT)

    # then they are asked to confirm, with a form that posts, and stay signed in
    assert response.status_code == 200
    assert 'method="post"' in response.content.decode()
    assert signed_in_as(client) == str(people["treasurer"].pk)
    assert client.get(DONORS).status_code == 200

    # when they post (Wagtail's own menu does), they are signed out
    response = client.post(LOGOUT)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert signed_in_as(client) is None
    assert client.get(DONORS).status_code == 302


def test_wagtails_menu_signs_out_by_post(client, people):
    client.force_login(people["treasurer"])
    page = client.get("/admin/").content.decode()
    # the sidebar's "Log out" is an action item (a POST form), not a link
    assert '"_type": "wagtail.sidebar.ActionMenuItem"' in page
    assert '"action": "/admin/logout/"' in page


def test_a_logout_post_without_the_csrf_token_is_refused(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["treasurer"])
    assert client.post(LOGOUT).status_code == 403
    assert signed_in_as(client) == str(people["treasurer"].pk)


# --- second factor -----------------------------------------------------------------------------


def code(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def device_for(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_a_treasurer_without_a_device_is_sent_to_set_one_up(client, people, settings):
    # given the second factor required for treasurers
    settings.OTP_REQUIRED_FOR = ["treasurers"]

    # when the treasurer signs in with the right password and asks for the donors
    assert sign_in(client, "tesoriera", PASSWORD).status_code == 302
    response = client.get(DONORS)

    # then they are sent to set up two-step verification first
    assert response.status_code == 302
    assert response["Location"] == f"{TWO_STEP}?next=%2Fadmin%2Fcrm%2Fdonors%2F"

    # where a QR code and a key wait; a first code from the app turns it on
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    pending = TOTPDevice.objects.get(user=people["treasurer"], confirmed=False)
    response = client.post(TWO_STEP, {"code": code(pending), "next": DONORS})
    assert response.status_code == 302 and response["Location"] == DONORS
    assert TOTPDevice.objects.get(user=people["treasurer"]).confirmed
    assert client.get(DONORS).status_code == 200


def test_a_password_without_the_code_does_not_reach_the_crm(client, people, settings):
    # given a treasurer with a phone set up, and an attacker who has their password only
    settings.OTP_REQUIRED_FOR = ["treasurers"]
    device = device_for(people["treasurer"])
    assert sign_in(client, "tesoriera", PASSWORD).status_code == 302

    # then every CRM page sends to the code page, and a guessed code is refused
    response = client.get(DONORS)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    wrong = client.post(VERIFY, {"code": "000000", "next": DONORS})
    assert wrong.status_code == 400 and "non è corretto" in wrong.content.decode()
    # (then refused without a look while django-otp's back-off runs: 429)
    assert client.post(VERIFY, {"code": "abc", "next": DONORS}).status_code in (400, 429)
    assert client.get(DONORS).status_code == 302
    # nor can the attacker remove the device or set up their own
    assert client.post(TWO_STEP, {"code": "123456"})["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=people["treasurer"], confirmed=True).count() == 1

    # when the wrong codes' back-off has passed and the code from the phone comes
    TOTPDevice.objects.update(
        throttling_failure_timestamp=F("throttling_failure_timestamp")
        - datetime.timedelta(minutes=5)
    )
    response = client.post(VERIFY, {"code": code(device), "next": DONORS})

    # then the CRM opens
    assert response.status_code == 302 and response["Location"] == DONORS
    assert client.get(DONORS).status_code == 200


def test_a_code_cannot_be_used_twice(people, settings):
    settings.OTP_REQUIRED_FOR = ["treasurers"]
    device = device_for(people["treasurer"])
    first, second = Client(), Client()
    sign_in(first, "tesoriera", PASSWORD)
    sign_in(second, "tesoriera", PASSWORD)
    used = code(device)
    assert first.post(VERIFY, {"code": used, "next": DONORS}).status_code == 302
    # an attacker who saw the code typed cannot replay it in their own session
    assert second.post(VERIFY, {"code": used, "next": DONORS}).status_code == 400
    assert second.get(DONORS).status_code == 302


def test_repeated_wrong_codes_are_throttled(client, people, settings):
    device = device_for(people["treasurer"])
    client.force_login(people["treasurer"])
    # given many wrong codes (the tenth waits 2**9 s: django-otp's back-off doubles each time)
    assert client.post(VERIFY, {"code": "000000"}).status_code == 400
    TOTPDevice.objects.update(throttling_failure_count=10)

    # then even the right code is refused until the back-off has passed
    response = client.post(VERIFY, {"code": code(device)})
    assert response.status_code == 429
    assert client.get(DONORS).status_code == 302


def test_a_superuser_needs_the_code_when_superusers_are_listed(client, people, settings):
    settings.OTP_REQUIRED_FOR = ["superusers", "treasurers"]
    client.force_login(people["admin"])
    assert client.get("/admin/").headers["Location"].startswith(TWO_STEP)

    device = device_for(people["admin"])
    assert client.get("/admin/").headers["Location"].startswith(VERIFY)
    assert client.get(SECURITY).status_code == 302
    assert client.post(VERIFY, {"code": code(device), "next": "/admin/"}).status_code == 302
    assert client.get(SECURITY).status_code == 200


def test_a_communicator_is_not_forced_when_only_treasurers_are_listed(client, people, settings):
    settings.OTP_REQUIRED_FOR = ["treasurers"]
    assert sign_in(client, "comunicatore", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_next_address_after_the_code_stays_on_this_site(client, people):
    device = device_for(people["treasurer"])
    client.force_login(people["treasurer"])
    response = client.post(VERIFY, {"code": code(device), "next": "https://evil.example/"})
    assert response["Location"] == "/admin/"


def test_a_superuser_turns_off_a_lost_phone(client, people):
    device_for(people["treasurer"])
    client.force_login(people["admin"])
    response = client.post(SECURITY, {"two_step_off": str(people["treasurer"].pk)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=people["treasurer"]).exists()


def test_a_user_turns_it_off_only_with_a_current_code(client, people):
    device = device_for(people["communicator"])
    client.force_login(people["communicator"])
    client.post(VERIFY, {"code": code(device), "next": "/admin/"})
    assert client.get(TWO_STEP).status_code == 200

    # a wrong or missing code leaves it on
    assert client.post(TWO_STEP, {"code": ""}).status_code == 400
    assert TOTPDevice.objects.filter(user=people["communicator"]).exists()

    # the app's next code turns it off (this step's code was just used to sign in)
    device.refresh_from_db()
    next_code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + 1)
    assert client.post(TWO_STEP, {"code": f"{next_code:06d}"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=people["communicator"]).exists()
