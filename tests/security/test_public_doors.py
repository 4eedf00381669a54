"""The public doors: what a browser may run on our pages (CSP), what the mail provider's
tracking webhook accepts, and what bad input to any public endpoint gets: a clear 4xx and no
change, never a 500."""

import base64
import hashlib
import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from cms.pagecache import HIT_HEADER
from crm.models import Donation

pytestmark = pytest.mark.django_db

# Inline code a policy could only allow wholesale ('unsafe-inline'): scripts, style attributes
# and event handlers. <style> elements are checked apart: each must be allowed by its hash.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.I | re.S)


def unhashed_styles(html, style_src):
    """The <style> elements of `html` that a browser would refuse under `style-src`: those
    whose exact text's SHA-256 is not among its hash sources."""
    allowed = {source for source in style_src if source.startswith("'sha256-")}

    def source(text):
        return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"

    return [text for text in STYLE_ELEMENT.findall(html) if source(text) not in allowed]


@pytest.fixture
def campaign(demo):
    from campaigns.models import CampaignPage

    return CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")


def directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_public_pages_run_no_inline_code_but_their_hashed_stylesheet(client, campaign):
    # given the home page, a network page and a campaign page (with its progress bar)
    for url in ("/", campaign.get_parent().url, campaign.url):
        for visit in ("rendered", "from the page cache"):
            response = client.get(url)
            assert response.status_code == 200, (url, visit)
            if visit == "from the page cache":
                assert response[HIT_HEADER] == "hit", url
            # then their policy allows no inline script or style wholesale and no eval
            policy = directives(response)
            for directive in ("script-src", "style-src"):
                assert "'unsafe-inline'" not in policy[directive], url
                assert "'unsafe-eval'" not in policy[directive], url
            assert policy["object-src"] == ["'none'"]
            html = response.content.decode()
            # and the pages need none: no inline script, style attribute or handler
            assert not INLINE.findall(html), url
            # and their one <style> (the site stylesheet, so a phone paints without fetching
            # it) is allowed by its hash, also when the page comes whole from the cache
            assert len(STYLE_ELEMENT.findall(html)) == 1, url
            assert not unhashed_styles(html, policy["style-src"]), (url, visit)


def test_an_inline_style_without_its_hash_in_the_policy_is_caught():
    # given a page whose policy hashes its stylesheet, and the same page with one more style
    text = "body{margin:0}"
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    allowed = ["'self'", f"'sha256-{digest}'"]
    # then the check passes the hashed one and names the other (a browser would refuse it)
    assert unhashed_styles(f"<style>{text}</style>", allowed) == []
    extra = f"<style>{text}</style><style>p{{color:red}}</style>"
    assert unhashed_styles(extra, allowed) == ["p{color:red}"]
    # and one changed by a byte is no longer allowed
    assert unhashed_styles("<style>body{margin:1px}</style>", allowed) == ["body{margin:1px}"]


def test_the_admin_keeps_its_own_looser_policy(client, demo):
    response = client.get("/admin/login/")
    assert "'unsafe-inline'" in directives(response)["script-src"]
    assert directives(response)["frame-ancestors"] == ["'self'"]


def test_production_refuses_to_start_without_the_tracking_webhook_secret():
    # (with the secret set, a post without it is refused: tests/receipts/test_mail.py)
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "STRIPE_WEBHOOK_SECRET": "whsec_test",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "ANYMAIL_WEBHOOK_SECRET must be set" in result.stderr


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("post", "/stripe/webhook/", b"not json at all"),
        ("post", "/stripe/webhook/", b'{"id": "evt_1", "type": "checkout.session.completed"}'),
        ("get", "/crm/receipts/not-a-token/", None),
        ("get", "/crm/receipts/" + "A" * 5000 + "/", None),
        ("get", "/give/thanks/forged/", None),
        ("get", "/en/give/cancelled/forged:token/", None),
        ("get", "/give/monthly/cancel/forged/", None),
        ("post", "/give/monthly/cancel/forged/", {}),
        ("post", "/give/999999/", {"amount": "10"}),
        ("get", "/give/1/", None),
    ],
)
def test_bad_input_at_a_public_door_is_a_clear_4xx(client, demo, method, url, data):
    before = Donation.objects.count()
    if method == "post" and isinstance(data, bytes):
        response = client.post(url, data, content_type="application/json")
    else:
        response = getattr(client, method)(url, data or {})
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert Donation.objects.count() == before


@pytest.mark.parametrize(
    "amount", ["-5", "0", "0,001", "1e9", "NaN", "\u00a0", "<script>", "9" * 400, "1.000.000,00"]
)
def test_bad_amounts_on_the_donation_form_are_a_400_that_writes_nothing(client, campaign, amount):
    response = client.post(
        f"/give/{campaign.pk}/",
        {
            "amount": amount,
            "frequency": "once",
            "first_name": "A",
            "last_name": "B",
            "email": "a@example.org",
            "privacy": "on",
        },
    )
    assert response.status_code == 400
    assert not Donation.objects.exists()
    assert "<script>" not in response.content.decode().split("<main", 1)[-1].replace(
        "&lt;script&gt;", ""
    )
