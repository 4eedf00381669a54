"""Issue 21: limits that stop card testers, not donors. An attacker's pass of 564 checkout starts
from 11 addresses closed a campaign to every donor for an hour (the campaign-wide limit refused
everyone) and counted 120 addresses of one IPv6 /64 as 120 donors. Now IPv6 is counted by /64,
and the campaign-wide threshold turns on the challenge for everyone instead of refusing them: a
donor who passes it can give. Starts refused by a limit or the challenge leave no row and no
Stripe Checkout Session; the starts that went through are checkout attempts, never gifts."""

import hashlib
import ipaddress
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.limits import PASSWORD_RESET_LIMITS, allow_password_reset, sign_in_client
from campaigns import challenge, ratelimit, stripe_api
from campaigns.models import CampaignPage
from crm.models import Donation, Network
from crm.portal import LINKS_PER_CLIENT, may_ask
from crm.throttle import client_key

FORM = {
    "amount": "2500",
    "frequency": "once",
    "first_name": "Anna",
    "last_name": "Rossi",
    "privacy": "on",
}
ATTACKERS = [f"198.51.100.{i}" for i in range(1, 12)]  # 11 addresses
SLASH64 = ipaddress.ip_network("2001:db8:4242:17::/64")
ROTATING = [str(SLASH64[i * 7919 + 1]) for i in range(120)]  # 120 addresses of one /64
DONOR_IP = "203.0.113.77"  # the 12th address: a real donor


def give_url(campaign, language="it"):
    with translation.override(language):
        return reverse("campaigns:give", args=[campaign.pk])


@pytest.fixture
def sessions(monkeypatch):
    """Every Checkout Session asked of Stripe (the stand-in), counted on the way."""
    made = []
    real = stripe_api.create_checkout_session

    def counting(donation, **kwargs):
        session = real(donation, **kwargs)
        made.append(session["id"])
        return session

    monkeypatch.setattr(stripe_api, "create_checkout_session", counting)
    return made


def solve(html):
    """What the donor's browser does with the built-in proof of work (static/js/giving.js):
    find the number whose SHA-256 with the puzzle starts with `difficulty` zero bits."""
    puzzle = re.search(r'name="pow_puzzle" value="([^"]+)"', html).group(1)
    difficulty = int(re.search(r'data-difficulty="(\d+)"', html).group(1))
    answer = 0
    while True:
        digest = hashlib.sha256(f"{puzzle}:{answer}".encode()).digest()
        if int.from_bytes(digest) >> (256 - difficulty) == 0:
            return {"pow_puzzle": puzzle, "pow_answer": str(answer)}
        answer += 1


@pytest.mark.parametrize(
    "address,key",
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:4242:17:aaaa:bbbb:cccc:dddd", "2001:db8:4242:17::"),
        ("2001:DB8:4242:17::1", "2001:db8:4242:17::"),
        ("::ffff:203.0.113.5", "203.0.113.5"),  # an IPv4 client seen through IPv6
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_a_client_is_its_ipv4_address_or_its_ipv6_slash64(address, key):
    assert client_key(address) == key


def test_one_slash64_is_one_client_in_every_per_client_limit(demo, settings):
    settings.GIVING_RATE_LIMITS = {"ip": (3, 3600)}
    allowed = [ratelimit.hit("ip", address) for address in ROTATING[:5]]
    assert allowed == [True, True, True, False, False]
    # another /64 is another client
    assert ratelimit.hit("ip", "2001:db8:4242:18::1")
    # the password reset and the donor's link are counted by client too
    reset_limit = PASSWORD_RESET_LIMITS["ip"][0]
    resets = [
        allow_password_reset(f"r{i}@example.org", ROTATING[i]) for i in range(reset_limit + 1)
    ]
    assert resets == [True] * reset_limit + [False]
    network = Network.objects.first()
    links = [
        may_ask(network, f"l{i}@example.org", ROTATING[i]) for i in range(LINKS_PER_CLIENT + 1)
    ]
    assert links == [True] * LINKS_PER_CLIENT + [False]


def test_sign_in_failures_are_counted_by_client(rf):
    # django-axes counts failed sign-ins by what AXES_CLIENT_IP_CALLABLE answers
    assert settings.AXES_CLIENT_IP_CALLABLE == "accounts.limits.sign_in_client"
    keys = {sign_in_client(rf.post("/", REMOTE_ADDR=address)) for address in ROTATING}
    assert keys == {"2001:db8:4242:17::"}
    assert sign_in_client(rf.post("/", REMOTE_ADDR="203.0.113.5")) == "203.0.113.5"


def test_six_hundred_starts_from_11_addresses_and_a_slash64_leave_a_donor_able_to_give(
    client, campaign, stripe_standin, sessions
):
    # given the default limits (60 starts an hour per client, 600 per campaign)
    per_client = ratelimit.limits()["ip"][0]
    threshold = ratelimit.limits()["campaign"][0]
    # when card testers start 600 checkouts from 11 addresses, one in six from 120 addresses of
    # one /64, each start with its own email
    statuses = {"v4": [], "v6": []}
    rotating = iter(ROTATING)
    for i in range(720):
        if i % 6 == 5:
            kind, address = "v6", next(rotating)
        else:
            kind, address = "v4", ATTACKERS[i % 11]
        response = client.post(
            give_url(campaign), {**FORM, "email": f"t{i}@example.org"}, REMOTE_ADDR=address
        )
        statuses[kind].append(response.status_code)
    # then the /64 is one client: 60 starts went through, the next ones were refused
    assert statuses["v6"][:per_client] == [303] * per_client
    assert statuses["v6"][per_client] == 429
    # and once the campaign reached its threshold, no start went through without the challenge
    went_through = statuses["v4"].count(303) + statuses["v6"].count(303)
    assert went_through == threshold
    assert set(statuses["v4"]) == {303, 400}
    assert set(statuses["v6"]) == {303, 429, 400}
    # each start that went through is one checkout attempt with one session; none is a gift
    assert len(sessions) == threshold
    assert Donation.objects.checkout_attempts().count() == threshold
    assert Donation.objects.gifts().count() == 0
    assert CampaignPage.objects.get(pk=campaign.pk).get_progress()["raised_cents"] == 0
    # when a real donor gives from a 12th address
    form = {**FORM, "email": "giulia@example.org"}
    asked = client.post(give_url(campaign), form, REMOTE_ADDR=DONOR_IP)
    # then they are asked to pass the challenge, their form kept, and nothing is started
    assert asked.status_code == 400
    html = asked.content.decode()
    assert 'data-testid="challenge"' in html
    assert 'value="giulia@example.org"' in html
    assert len(sessions) == threshold
    # and once passed, they go to Stripe
    given = client.post(give_url(campaign), {**form, **solve(html)}, REMOTE_ADDR=DONOR_IP)
    assert given.status_code == 303
    assert len(sessions) == threshold + 1
    assert Donation.objects.filter(donor_details__email="giulia@example.org").count() == 1


def test_refused_starts_leave_no_row_and_no_session(client, campaign, stripe_standin, sessions):
    limit = ratelimit.limits()["ip"][0]
    statuses = [
        client.post(
            give_url(campaign), {**FORM, "email": f"t{i}@example.org"}, REMOTE_ADDR=ROTATING[i]
        ).status_code
        for i in range(limit + 5)
    ]
    assert statuses == [303] * limit + [429] * 5
    assert len(sessions) == limit
    assert Donation.objects.count() == limit
    assert Donation.objects.gifts().count() == 0


def test_a_failed_or_replayed_challenge_starts_nothing(
    client, campaign, stripe_standin, sessions, settings
):
    # given a campaign busy: its threshold (here 2) reached by earlier starts
    settings.GIVING_RATE_LIMITS = {"campaign": (2, 3600)}
    for i in range(2):
        assert not ratelimit.campaign_busy(campaign.pk)
        ratelimit.check_all(ip=f"10.0.0.{i}", email=f"x{i}@example.org", campaign_id=campaign.pk)
    assert ratelimit.campaign_busy(campaign.pk)
    form = {**FORM, "email": "giulia@example.org"}
    html = client.post(give_url(campaign), form, REMOTE_ADDR=DONOR_IP).content.decode()
    solution = solve(html)
    # a wrong answer, a puzzle of another campaign, a forged puzzle: refused, nothing started
    wrong = {**solution, "pow_answer": str(int(solution["pow_answer"]) + 1)}
    forged = {**solution, "pow_puzzle": solution["pow_puzzle"][:-2] + "xx"}
    for attempt in (wrong, forged, {"pow_puzzle": "", "pow_answer": ""}):
        response = client.post(give_url(campaign), {**form, **attempt}, REMOTE_ADDR=DONOR_IP)
        assert response.status_code == 400
    assert sessions == []
    # the right answer once; the same solved puzzle again is refused
    passed = client.post(give_url(campaign), {**form, **solution}, REMOTE_ADDR=DONOR_IP)
    assert passed.status_code == 303
    again = client.post(give_url(campaign), {**form, **solution}, REMOTE_ADDR=DONOR_IP)
    assert again.status_code == 400
    assert len(sessions) == 1
    assert Donation.objects.count() == 1


def test_a_puzzle_is_for_one_campaign(campaign, rf, db):
    other = CampaignPage.objects.exclude(pk=campaign.pk).live().first()
    html = challenge.ProofOfWork().html(rf.get("/"), campaign)
    request = rf.post("/", solve(html))
    assert not challenge.ProofOfWork().verify(request, other)
    assert challenge.ProofOfWork().verify(request, campaign)


@pytest.mark.parametrize(
    "language,text",
    [
        ("it", "Troppi tentativi: non è stato addebitato nulla."),
        ("en", "Too many attempts: nothing was charged."),
    ],
)
def test_the_refusal_is_a_translated_429(client, campaign, settings, language, text):
    settings.GIVING_RATE_LIMITS = {"ip": (1, 3600)}
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    first = client.post(give_url(campaign, language), {**FORM, "email": "a@example.org"})
    assert first.status_code == 503
    refused = client.post(give_url(campaign, language), {**FORM, "email": "b@example.org"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    html = refused.content.decode()
    assert text in html
    assert f'lang="{language}"' in html


@pytest.mark.parametrize(
    "language,text",
    [("it", "Un momento: verifichiamo"), ("en", "One moment: we are checking")],
)
def test_the_challenge_speaks_the_donor_language(client, campaign, settings, language, text):
    settings.GIVING_RATE_LIMITS = {"campaign": (0, 3600)}  # threshold 0: always asked
    response = client.post(give_url(campaign, language), {**FORM, "email": "a@example.org"})
    assert response.status_code == 400
    assert text in response.content.decode()
