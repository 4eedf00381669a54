"""Messages to donors, walked as an attacker: another network's people with network A's ids,
a stranger with a message's links and tokens, the mail provider's webhook with odd payloads, a
visitor with a crafted `?m=`, an observer, and a communicator typing template code.

Network A ("oltre-il-ponte") holds the secrets: a message, its segment, its donors and their
deliveries. B's communicator and treasurer ("valle-serena") try to read or move them; every
door must answer 404 (or refuse) and change nothing, never a 500.
"""

import base64
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from campaigns.models import CampaignPage
from crm.models import Donation, Donor, SuppressedAddress
from outreach.community import OBSERVERS
from outreach.models import Delivery, Message, Segment
from outreach.rendering import render_message
from outreach.sending import start_sending

pytestmark = pytest.mark.django_db

A, B = "oltre-il-ponte", "valle-serena"
B_STAFF = (f"comunicazione-{B}", f"tesoreria-{B}")
# What A holds and B must never read.
A_SUBJECT = "Appello riservato Sigismondo"
A_SEGMENT = "Segmento riservato Gualtiero"
A_DONORS = ("Ottavina", "Pellegrina")
SECRETS = (A_SUBJECT, A_SEGMENT, *A_DONORS)


@pytest.fixture
def people(demo):
    return {user.username: user for user in get_user_model().objects.all()}


def consenting(network, name):
    return Donor.objects.create(
        network=network,
        first_name=name,
        last_name="Segreti",
        email=f"{name.lower()}@example.org",
        newsletter=True,
        newsletter_confirmed_at=timezone.now(),
    )


@pytest.fixture
def network_a(demo, people, django_capture_on_commit_callbacks, settings):
    """A's segment, a message sent to it (with its deliveries and history) and a draft."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    network = demo[A]
    donors = [consenting(network, name) for name in A_DONORS]
    segment = Segment.objects.create(network=network, name=A_SEGMENT)
    sent = Message.objects.create(
        network=network,
        subject=A_SUBJECT,
        body=[{"type": "paragraph", "value": "<p>Ciao {nome}</p>"}],
        segment=segment,
    )
    communicator = people[f"comunicazione-{A}"]
    with django_capture_on_commit_callbacks(execute=True):
        start_sending(sent, communicator)
    log(sent, "outreach.message.send", user=communicator, data={"recipients": 2})
    draft = Message.objects.create(
        network=network,
        subject=A_SUBJECT + " (bozza)",
        body=[{"type": "paragraph", "value": "<p>Bozza</p>"}],
        segment=segment,
    )
    log(draft, "outreach.message.test", user=communicator, data={"to": "a@example.org"})
    log(draft, "outreach.message.schedule", user=communicator, data={"send_at": "2030"})
    mail.outbox = []
    return {
        "network": network,
        "segment": segment,
        "sent": Message.objects.get(pk=sent.pk),
        "draft": draft,
        "donors": donors,
        "deliveries": list(Delivery.objects.filter(message=sent)),
        "campaign": CampaignPage.objects.descendant_of(network.page).first(),
    }


@pytest.fixture
def network_b(demo):
    network = demo[B]
    consenting(network, "Bertoldo")
    segment = Segment.objects.create(network=network, name="Tutti di B")
    message = Message.objects.create(
        network=network,
        subject="Notizie di B",
        body=[{"type": "paragraph", "value": "<p>Ciao</p>"}],
        segment=segment,
    )
    return {"network": network, "segment": segment, "message": message}


def url(name, *args):
    return reverse(f"outreach_message:{name}", args=args)


def snapshot(*messages):
    return [
        (m.pk, m.subject, m.status, m.send_at, m.segment_id, m.updated_at)
        for m in Message.objects.filter(pk__in=[m.pk for m in messages]).order_by("pk")
    ]


def message_form(network, segment="", campaign="", subject="Preso!", body=None, **extra):
    return nested_form_data(
        {
            "network": network.pk,
            "segment": segment,
            "campaign": campaign,
            "subject": subject,
            "preheader": "",
            "body": streamfield(body or [("paragraph", rich_text("<p>Testo</p>"))]),
            "subject_en": "",
            "preheader_en": "",
            "body_en": streamfield([]),
            **extra,
        }
    )


def assert_no_secret(text, where=""):
    for secret in SECRETS:
        assert secret not in text, (secret, where)


# --- Another network's people on A's messages ---------------------------------------------------


READS = ["inspect", "edit", "delete", "send", "schedule", "results", "text", "history"]
WRITES = ["edit", "delete", "send", "send_test", "schedule", "cancel_schedule"]


@pytest.mark.parametrize("who", B_STAFF)
def test_another_networks_messages_are_404_on_every_door(client, people, network_a, who):
    client.force_login(people[who])
    before = snapshot(network_a["sent"], network_a["draft"])
    entries = ModelLogEntry.objects.count()
    for message in (network_a["sent"], network_a["draft"]):
        for name in READS:
            response = client.get(url(name, message.pk))
            assert response.status_code == 404, (name, message.status)
            assert_no_secret(response.text, name)
        for name in WRITES:
            data = {"date": "2099-01-01", "time": "10:00"} if name == "schedule" else {}
            response = client.post(url(name, message.pk), data)
            assert response.status_code == 404, (name, message.status)
    # the preview as well, with a form that would otherwise render
    draft = network_a["draft"]
    response = client.post(url("preview_on_edit", draft.pk), message_form(network_a["network"]))
    assert response.status_code == 404
    assert client.get(url("preview_on_edit", draft.pk)).status_code == 404
    # nothing moved, nobody was written to, no history was added
    assert snapshot(network_a["sent"], network_a["draft"]) == before
    assert Message.objects.filter(network=network_a["network"]).count() == 2
    assert not mail.outbox
    assert ModelLogEntry.objects.count() == entries


@pytest.mark.parametrize("field", ["network", "segment", "campaign"])
def test_a_message_naming_another_networks_ids_is_refused(
    client, people, network_a, network_b, field
):
    client.force_login(people[B_STAFF[0]])
    own = {"network": network_b["network"], "segment": network_b["segment"].pk}
    theirs = {
        "network": network_a["network"],
        "segment": network_a["segment"].pk,
        "campaign": network_a["campaign"].pk,
    }
    data = {**own, field: theirs[field]}
    count = Message.objects.count()
    # a new message, and an edit of B's own draft
    assert client.post(url("add"), message_form(**data)).status_code == 200  # form re-shown
    assert Message.objects.count() == count
    message = network_b["message"]
    response = client.post(url("edit", message.pk), message_form(**data, subject="Cambiato"))
    assert response.status_code == 200
    message.refresh_from_db()
    assert (message.network, message.segment) == (network_b["network"], network_b["segment"])
    assert message.subject == "Notizie di B"


@pytest.mark.parametrize("field", ["network", "segment"])
def test_the_preview_never_renders_with_another_networks_segment(
    client, people, network_a, network_b, field
):
    """Wagtail's preview posts the form and then renders it: with A's network or segment the
    form is invalid, and nothing of A (its name, donors, counts) is drawn."""
    client.force_login(people[B_STAFF[0]])
    own = {"network": network_b["network"], "segment": network_b["segment"].pk}
    theirs = {"network": network_a["network"], "segment": network_a["segment"].pk}
    data = {**own, field: theirs[field]}
    for preview in (url("preview_on_add"), url("preview_on_edit", network_b["message"].pk)):
        posted = client.post(preview, message_form(**data))
        assert posted.status_code == 200
        assert posted.json()["is_valid"] is False
        shown = client.get(preview, {"mode": "it"})
        assert shown.status_code in (200, 400)
        assert_no_secret(shown.text, preview)
        assert network_a["network"].name not in shown.text


def test_the_preview_shows_sample_values_never_a_donor(client, people, network_b):
    client.force_login(people[B_STAFF[0]])
    preview = url("preview_on_edit", network_b["message"].pk)
    form = message_form(
        network_b["network"],
        segment=network_b["segment"].pk,
        body=[("paragraph", rich_text("<p>Cara {nome}, {ultimo_dono}</p>"))],
    )
    assert client.post(preview, form).json()["is_valid"] is True
    shown = client.get(preview, {"mode": "it"})
    assert shown.status_code == 200
    assert "Maria" in shown.text and "Bertoldo" not in shown.text
    # a made-up preview mode is a 404, not a 500
    assert client.get(preview, {"mode": "../../etc"}).status_code == 404


@pytest.mark.parametrize("who", B_STAFF)
def test_site_history_and_search_show_nothing_of_another_networks_messages(
    client, people, network_a, who
):
    client.force_login(people[who])
    for address in (
        "/admin/reports/site-history/",
        "/admin/reports/site-history/results/",
        "/admin/reports/site-history/?export=csv",
        "/admin/reports/site-history/?action=outreach.message.send",
        "/admin/reports/site-history/?action=outreach.message.test",
        f"/admin/search/?q={A_SUBJECT[:12]}",
        f"/admin/outreach/messages/?q={A_SUBJECT[:12]}",
        f"/admin/outreach/messages/results/?q={A_SUBJECT[:12]}",
        f"/admin/outreach/segments/?q={A_SEGMENT[:12]}",
        f"/admin/api/main/pages/?search={A_SUBJECT[:12]}",
    ):
        response = client.get(address)
        assert response.status_code < 500, address
        text = (
            b"".join(response.streaming_content).decode()
            if response.streaming
            else response.content.decode()
        )
        assert_no_secret(text, address)


def test_site_history_still_shows_a_network_its_own_messages(client, people, network_a):
    client.force_login(people[f"comunicazione-{A}"])
    response = client.get("/admin/reports/site-history/")
    assert response.status_code == 200
    assert A_SUBJECT in response.text


def test_another_networks_segment_screens_are_404(client, people, network_a):
    client.force_login(people[B_STAFF[1]])
    pk = network_a["segment"].pk
    for address in (
        reverse("outreach_segments:edit", args=[pk]),
        reverse("outreach_segments:delete", args=[pk]),
        reverse("outreach_segments:export", args=[pk]),
    ):
        assert client.get(address).status_code == 404, address
    assert client.post(reverse("outreach_segments:delete", args=[pk])).status_code == 404
    assert Segment.objects.filter(pk=pk).exists()


# --- The donor's links: unsubscribe and preferences by token -----------------------------------


BAD_TOKENS = [
    "x" * 5000,
    "àèìòù€",
    "..%2F..%2Fadmin",
    "%00",
    "tok%00en",
    "'%20OR%201=1--",
    "%3Cscript%3E",
]


@pytest.mark.parametrize("page", ["unsubscribe", "preferences"])
@pytest.mark.parametrize("token", BAD_TOKENS)
def test_malformed_tokens_are_a_clear_404(network_a, page, token):
    client = Client()
    response = client.get(f"/news/{page}/{token}/")
    assert response.status_code == 404
    assert "<script>" not in response.content.decode()
    response = client.post(
        f"/news/{page}/{token}/",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (403, 404)
    assert all(Donor.objects.get(pk=d.pk).newsletter for d in network_a["donors"])


@pytest.mark.parametrize("page", ["unsubscribe", "preferences"])
@pytest.mark.parametrize("method", ["put", "delete", "patch", "options"])
def test_other_methods_are_refused_and_change_nothing(network_a, page, method):
    delivery = network_a["deliveries"][0]
    response = getattr(Client(), method)(f"/news/{page}/{delivery.token}/")
    assert response.status_code == 405
    assert Donor.objects.get(pk=delivery.donor_id).newsletter is True


@pytest.mark.parametrize("page", ["unsubscribe", "preferences"])
def test_head_changes_nothing(network_a, page):
    delivery = network_a["deliveries"][0]
    assert Client().head(f"/news/{page}/{delivery.token}/").status_code < 500
    assert Donor.objects.get(pk=delivery.donor_id).newsletter is True


def test_a_post_that_is_not_the_one_click_body_needs_the_csrf_token(network_a):
    delivery = network_a["deliveries"][0]
    client = Client(enforce_csrf_checks=True)
    address = f"/news/unsubscribe/{delivery.token}/"
    for body in (
        "List-Unsubscribe=one-click",
        "List-Unsubscribe=One-Click-please",
        "List-Unsubscribe=",
        "Unsubscribe=One-Click",
    ):
        response = client.post(address, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 403, body
    # a JSON body naming the one-click field is not the form body either
    response = client.post(
        address, data=json.dumps({"List-Unsubscribe": "One-Click"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert Donor.objects.get(pk=delivery.donor_id).newsletter is True
    # preferences are a form: no CSRF token, no change
    response = client.post(f"/news/preferences/{delivery.token}/", {"language": "en"})
    assert response.status_code == 403
    donor = Donor.objects.get(pk=delivery.donor_id)
    assert (donor.newsletter, donor.language) == (True, "it")


def test_one_click_is_idempotent_and_touches_only_its_donor(network_a):
    first, second = network_a["deliveries"]
    address = f"/news/unsubscribe/{first.token}/"
    body = "List-Unsubscribe=One-Click&first_name=Hacked&email=evil@example.org"
    for _ in range(3):
        response = Client().post(
            address, data=body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200
    first.refresh_from_db()
    stamped = first.unsubscribed_at
    assert stamped is not None
    Client().post(
        address, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    first.refresh_from_db()
    assert first.unsubscribed_at == stamped  # the first time stays the record
    donor = Donor.objects.get(pk=first.donor_id)
    assert (donor.newsletter, donor.first_name, donor.email) == (
        False,
        A_DONORS[0] if first.donor.first_name == A_DONORS[0] else A_DONORS[1],
        first.to,
    )
    assert Donor.objects.get(pk=second.donor_id).newsletter is True


@pytest.mark.parametrize(
    "data",
    [
        {"language": "xx"},
        {"language": "it' OR 1=1"},
        {"language": "en" * 500},
        {"newsletter": "on"},  # no language at all
    ],
)
def test_preferences_with_bad_input_are_a_400_and_change_nothing(network_a, data):
    delivery = network_a["deliveries"][0]
    before = Donor.objects.get(pk=delivery.donor_id)
    response = Client().post(
        f"/news/preferences/{delivery.token}/",
        {**data, "first_name": "Hacked", "last_name": "X", "email": "evil@example.org"},
    )
    assert response.status_code == 400
    after = Donor.objects.get(pk=delivery.donor_id)
    for field in ("first_name", "last_name", "email", "language", "newsletter", "updated_at"):
        assert getattr(after, field) == getattr(before, field), field


def test_preferences_never_take_identity_and_repeat_safely(network_a):
    delivery = network_a["deliveries"][0]
    address = f"/news/preferences/{delivery.token}/"
    claim = {
        "language": "en",
        "newsletter": "on",
        "first_name": "Hacked",
        "last_name": "Hacker",
        "email": "evil@example.org",
        "network": network_a["network"].pk + 1,
        "donor": 1,
    }
    for _ in range(2):
        assert Client().post(address, claim).status_code == 200
    donor = Donor.objects.get(pk=delivery.donor_id)
    assert (donor.first_name, donor.last_name, donor.email) == (
        delivery.donor.first_name,
        "Segreti",
        delivery.to,
    )
    assert (donor.newsletter, donor.language, donor.network_id) == (
        True,
        "en",
        network_a["network"].pk,
    )


def test_a_link_to_an_old_address_does_not_confirm_the_new_one(network_a):
    """Double opt-in: a link proves the mailbox it was sent to. A donor whose address changed
    since (or a merge kept another address) is not re-subscribed from the old link, and its
    holder is never shown the new address."""
    delivery = network_a["deliveries"][0]
    Donor.objects.filter(pk=delivery.donor_id).update(
        email="new-address@example.org", newsletter=False, newsletter_confirmed_at=None
    )
    address = f"/news/preferences/{delivery.token}/"
    response = Client().post(address, {"language": "en", "newsletter": "on"})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()  # the refusal, said on the form
    donor = Donor.objects.get(pk=delivery.donor_id)
    assert (donor.newsletter, donor.newsletter_confirmed_at, donor.language) == (False, None, "it")
    for page in ("preferences", "unsubscribe"):
        html = Client().get(f"/news/{page}/{delivery.token}/").content.decode()
        assert "new-address@example.org" not in html, page
    # stopping the news from the old link still works
    response = Client().post(address, {"language": "it"})
    assert response.status_code == 200


# --- The mail provider's tracking webhook -------------------------------------------------------


def postmark(payload, raw=False):
    auth = base64.b64encode(b"hook:s3cret").decode()
    return Client().post(
        "/crm/anymail/postmark/tracking/",
        data=payload if raw else json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def bounce(**fields):
    return {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": "pm-unknown",
        "Email": "someone@example.org",
        "BouncedAt": "2026-03-15T16:09:19Z",
        "Description": "unknown user",
        **fields,
    }


@pytest.mark.parametrize(
    "payload",
    [
        bounce(),
        bounce(Metadata={"delivery": "no-such-token"}),
        bounce(Metadata={"delivery": ["a", "b"]}),
        bounce(Metadata={"delivery": {"token": "x"}}),
        bounce(Metadata={"delivery": 12345}),
        bounce(Metadata={"delivery": None}),
        bounce(Metadata={"delivery": "x" * 10000}),
        bounce(Metadata={"delivery": "\u0000"}),
        bounce(Metadata=["delivery"]),
        bounce(Metadata="delivery"),
        bounce(MessageID=None),
        bounce(MessageID="pm\u0000x"),
        bounce(Email="a\u0000@example.org", Metadata={"delivery": "abc"}),
        bounce(MessageID=["pm-1"]),
        bounce(BouncedAt="not a date"),
        {"RecordType": "Bounce"},
        {"RecordType": "Nonsense", "MessageID": "x"},
        {},
        [],
        "just a string",
    ],
)
def test_odd_tracking_payloads_change_nothing_and_never_500(network_a, payload):
    response = postmark(payload)
    assert response.status_code < 500
    assert not SuppressedAddress.objects.exists()
    assert all(
        d.status == Delivery.Status.SENT for d in Delivery.objects.filter(message=network_a["sent"])
    )


def test_a_tracking_body_that_is_not_json_is_refused(network_a):
    assert postmark("{not json", raw=True).status_code < 500
    assert not SuppressedAddress.objects.exists()


def test_a_bounce_suppresses_only_its_own_networks_address(network_a, network_b):
    """The delivery's token decides: the address suppressed is the one the delivery went to,
    in the delivery's network, whatever address or message id the event names."""
    delivery = network_a["deliveries"][0]
    response = postmark(bounce(Email="bertoldo@example.org", Metadata={"delivery": delivery.token}))
    assert response.status_code == 200
    assert list(SuppressedAddress.objects.values_list("network_id", "email")) == [
        (network_a["network"].pk, delivery.to.lower())
    ]


def test_unsigned_tracking_events_are_refused(network_a):
    delivery = network_a["deliveries"][0]
    response = Client().post(
        "/crm/anymail/postmark/tracking/",
        data=json.dumps(bounce(Metadata={"delivery": delivery.token})),
        content_type="application/json",
    )
    assert response.status_code in (400, 401, 403)
    assert not SuppressedAddress.objects.exists()


# --- `?m=` on a campaign page -------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ['"><script>alert(1)</script>', "x" * 5000, "abc def", "àèìòù", "tok\u0000en", "ab"],
)
def test_a_crafted_message_token_is_dropped_not_reflected(client, network_a, token):
    campaign = network_a["campaign"]
    response = client.get(campaign.url, {"m": token})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    # the form's attribution field keeps nothing of it (the language switcher keeps the
    # address, escaped, so that switching language keeps a real token)
    assert 'name="message_token"' not in html
    # and the gift form posted with it keeps nothing of it
    response = client.post(
        reverse("campaigns:give", args=[campaign.pk]),
        {"amount": "25", "message_token": token, "email": "x@example.org"},
    )
    assert response.status_code < 500
    assert not Donation.objects.exclude(message_token="").exists()


def test_a_wellformed_token_is_kept_in_the_form_only(client, network_a):
    campaign = network_a["campaign"]
    token = network_a["deliveries"][0].token
    response = client.get(campaign.url, {"m": token})
    html = response.content.decode()
    assert f'name="message_token" value="{token}"' in html
    # never in the share links (a friend giving through them did not come through that email)
    shares = re.findall(r'href="([^"]*(?:wa\.me|facebook|x\.com|mailto:)[^"]*)"', html)
    assert shares and not any(token in link for link in shares)


# --- Observers ----------------------------------------------------------------------------------


@pytest.fixture
def observer(django_user_model, demo):
    user = django_user_model.objects.create_user("fondazione-osservatrice", password="x")
    user.groups.add(Group.objects.get(name=OBSERVERS))
    return user


def turned_away(response):
    return response.status_code in (403, 404) or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


def test_an_observer_reaches_no_message_segment_donor_or_report(client, observer, network_a):
    client.force_login(observer)
    sent, segment = network_a["sent"], network_a["segment"]
    network = network_a["network"]
    for address in (
        url("index"),
        url("add"),
        url("inspect", sent.pk),
        url("results", sent.pk),
        url("text", sent.pk),
        url("history", sent.pk),
        url("campaign_update"),
        reverse("outreach_segments:index"),
        reverse("outreach_segments:edit", args=[segment.pk]),
        reverse("outreach_segments:export", args=[segment.pk]),
        reverse("outreach_report:index") + f"?network={network.pk}&year=2026",
        reverse("outreach_report:csv") + f"?network={network.pk}&year=2026",
        "/admin/crm/donor-chooser/",
        f"/admin/crm/donor-chooser/results/?q={A_DONORS[0]}",
    ):
        response = client.get(address)
        assert turned_away(response), (address, response.status_code)
    for address in (
        f"/admin/api/main/pages/?search={A_SUBJECT[:12]}",
        "/admin/reports/site-history/",
        f"/admin/search/?q={A_DONORS[0]}",
    ):
        response = client.get(address)
        assert response.status_code < 500, address
        assert_no_secret(response.content.decode(), address)
    assert turned_away(client.post(url("send", sent.pk)))
    assert not mail.outbox


# --- What a communicator types is text, never code ----------------------------------------------


TEMPLATE_CODE = "{{ settings.SECRET_KEY }} {% debug %} {% load static %} {{ request }}"


def test_template_code_in_a_message_is_never_run(client, people, network_b, settings):
    settings.SECRET_KEY = "k" * 50 + "-never-in-an-email"
    client.force_login(people[B_STAFF[0]])
    message = network_b["message"]
    response = client.post(
        url("edit", message.pk),
        message_form(
            network_b["network"],
            segment=network_b["segment"].pk,
            subject="Ciao {nome} " + TEMPLATE_CODE,
            preheader=TEMPLATE_CODE,
            body=[("paragraph", rich_text(f"<p>Cara {{nome}} {TEMPLATE_CODE}</p>"))],
        ),
    )
    assert response.status_code == 302
    message.refresh_from_db()
    donor = Donor.objects.get(first_name="Bertoldo")
    rendered = render_message(message, donor=donor)
    for part in (rendered.subject, rendered.preheader, rendered.html, rendered.text):
        assert "never-in-an-email" not in part
        assert "{% debug %}" in part or "{% debug %}" in part.replace("&#x27;", "'")
        assert "sys.path" not in part and "CSRF" not in part
    assert rendered.subject.startswith("Ciao Bertoldo ")
    # the admin's preview and plain text show it as text too
    text = client.get(url("text", message.pk)).content.decode()
    assert "{% debug %}" in text and "never-in-an-email" not in text


def test_a_donors_name_is_escaped_in_the_email(network_b):
    donor = Donor.objects.create(
        network=network_b["network"],
        first_name='<img src=x onerror="alert(1)">',
        email="xss@example.org",
    )
    rendered = render_message(
        Message(
            network=network_b["network"],
            subject="Ciao {nome}",
            body=[{"type": "paragraph", "value": "<p>Cara {nome}</p>"}],
        ),
        donor=donor,
    )
    assert "<img src=x" not in rendered.html
    assert "&lt;img src=x" in rendered.html


def test_script_and_javascript_links_never_reach_the_email(client, people, network_b):
    client.force_login(people[B_STAFF[0]])
    message = network_b["message"]
    body = (
        '<p>Ciao <a href="javascript:alert(1)">clicca</a>'
        '<a href="JaVaScRiPt:alert(2)">due</a>'
        '<a href="data:text/html,<script>alert(3)</script>">tre</a></p>'
        '<script>alert(4)</script><p onclick="alert(5)">x</p>'
    )
    response = client.post(
        url("edit", message.pk),
        message_form(
            network_b["network"],
            segment=network_b["segment"].pk,
            body=[("paragraph", rich_text(body))],
        ),
    )
    assert response.status_code == 302
    message.refresh_from_db()
    rendered = render_message(message)
    lowered = rendered.html.lower()
    for bad in ("javascript:", "<script", "onclick", "data:text/html"):
        assert bad not in lowered, bad
    assert "javascript:" not in rendered.text.lower()


def test_a_button_to_a_javascript_address_is_refused(client, people, network_b):
    client.force_login(people[B_STAFF[0]])
    message = network_b["message"]
    response = client.post(
        url("edit", message.pk),
        message_form(
            network_b["network"],
            segment=network_b["segment"].pk,
            body=[
                (
                    "button",
                    {"label": "Dona", "page": "", "url": "javascript:alert(1)"},
                )
            ],
        ),
    )
    assert response.status_code == 200  # the form again, with the error
    message.refresh_from_db()
    assert "javascript" not in json.dumps(list(message.body.raw_data))


# --- More of the admin: buttons, bulk actions, segment counts, the report ------------------------


A_DRAFT = "Bozza riservata Ermengarda"


@pytest.fixture
def a_draft_page(network_a):
    from cms.models import StandardPage

    home = network_a["network"].page
    return home.add_child(instance=StandardPage(title=A_DRAFT, slug="bozza-ermengarda", live=False))


@pytest.mark.parametrize("field", ["body", "body_en"])
def test_a_button_to_another_networks_page_is_refused(
    client, people, network_b, a_draft_page, field
):
    """The page chooser offers only B's pages; posting A's page id by hand must not put it in
    B's message (its edit form would then show A's draft title, its email A's address)."""
    client.force_login(people[B_STAFF[0]])
    message = network_b["message"]
    button = [("button", {"label": "Dona", "page": a_draft_page.pk, "url": ""})]
    extra = {}
    if field == "body_en":
        extra = {"subject_en": "News", "body_en": streamfield(button)}
    form = message_form(
        network_b["network"],
        segment=network_b["segment"].pk,
        body=button if field == "body" else None,
    )
    form.update(nested_form_data(extra))
    response = client.post(url("edit", message.pk), form)
    assert response.status_code == 200  # the form again, with the error
    message.refresh_from_db()
    # the pages the saved buttons point at (compared as values: a pk may sit inside a block's id)
    pages = [
        block["value"].get("page")
        for body in (message.body, message.body_en)
        for block in body.raw_data
        if block["type"] == "button"
    ]
    assert a_draft_page.pk not in pages and str(a_draft_page.pk) not in map(str, pages)
    assert A_DRAFT not in client.get(url("edit", message.pk)).text
    # nor through the preview
    preview = url("preview_on_edit", message.pk)
    assert client.post(preview, form).json()["is_valid"] is False
    assert "bozza-ermengarda" not in client.get(preview, {"mode": "it"}).text


def test_a_button_to_the_networks_own_page_is_kept(client, people, network_b):
    client.force_login(people[B_STAFF[0]])
    message = network_b["message"]
    own = CampaignPage.objects.descendant_of(network_b["network"].page).first()
    button = [("button", {"label": "Dona", "page": own.pk, "url": ""})]
    form = message_form(network_b["network"], segment=network_b["segment"].pk, body=button)
    assert client.post(url("edit", message.pk), form).status_code == 302
    message.refresh_from_db()
    assert message.body[0].value["page"].pk == own.pk


@pytest.mark.parametrize("model", ["message", "segment", "delivery", "suppression"])
@pytest.mark.parametrize("action", ["delete", "unpublish", "move", "add_to_collection"])
def test_bulk_action_urls_change_nothing_of_another_network(
    client, people, network_a, model, action
):
    client.force_login(people[B_STAFF[1]])
    ids = {
        "message": network_a["sent"].pk,
        "segment": network_a["segment"].pk,
        "delivery": network_a["deliveries"][0].pk,
        "suppression": 1,
    }[model]
    address = f"/admin/bulk/outreach/{model}/{action}/?id={ids}"
    for response in (client.get(address), client.post(address)):
        assert response.status_code < 500
        assert_no_secret(response.content.decode(), address)
    assert Message.objects.filter(pk=network_a["sent"].pk).exists()
    assert Segment.objects.filter(pk=network_a["segment"].pk).exists()
    assert Delivery.objects.filter(message=network_a["sent"]).count() == 2


def test_the_live_segment_count_refuses_another_networks_filters(client, people, network_a):
    client.force_login(people[B_STAFF[0]])
    for data in (
        {"network": network_a["network"].pk},
        {"network": people[B_STAFF[0]].pk, "campaign": network_a["campaign"].pk},
    ):
        response = client.post(reverse("outreach_segments:count"), data)
        assert response.status_code == 400, data
        assert "count" not in response.json()


@pytest.mark.parametrize("name", ["index", "csv"])
def test_the_report_of_another_network_is_refused(client, people, network_a, name):
    client.force_login(people[B_STAFF[1]])
    response = client.get(
        reverse(f"outreach_report:{name}"), {"network": network_a["network"].pk, "year": 2026}
    )
    assert response.status_code == 400
    assert not response.get("Content-Disposition")


@pytest.mark.parametrize(
    "address",
    [
        "{text}?language=xx",
        "{text}?language=../../etc/passwd",
    ],
)
def test_odd_languages_and_modes_are_a_404(client, people, network_b, address):
    client.force_login(people[B_STAFF[0]])
    pk = network_b["message"].pk
    target = address.format(text=url("text", pk), preview=url("preview_on_edit", pk))
    assert client.get(target).status_code in (400, 404)


@pytest.mark.parametrize("mode", ["fr", "it-html", "en-text-x", "-text"])
def test_odd_preview_modes_are_a_404(client, people, network_b, mode):
    client.force_login(people[B_STAFF[0]])
    preview = url("preview_on_edit", network_b["message"].pk)
    form = message_form(network_b["network"], segment=network_b["segment"].pk)
    assert client.post(preview, form).json()["is_valid"] is True
    assert client.get(preview, {"mode": mode}).status_code == 404


def test_a_test_in_an_odd_language_sends_nothing(client, people, network_b):
    client.force_login(people[B_STAFF[0]])
    response = client.post(url("send_test", network_b["message"].pk) + "?language=xx")
    assert response.status_code == 404
    assert not mail.outbox


def test_a_text_link_to_another_networks_page_is_refused(client, people, network_b, a_draft_page):
    client.force_login(people[B_STAFF[0]])
    message = network_b["message"]
    link = f'<p>Leggi <a linktype="page" id="{a_draft_page.pk}">qui</a></p>'
    form = message_form(
        network_b["network"],
        segment=network_b["segment"].pk,
        body=[("paragraph", rich_text(link))],
    )
    response = client.post(url("edit", message.pk), form)
    assert response.status_code == 200  # the form again, with the error
    message.refresh_from_db()
    assert f'id="{a_draft_page.pk}"' not in message.body.raw_data[0]["value"]
    assert "bozza-ermengarda" not in render_message(message).html
    edit = client.get(url("edit", message.pk)).text
    assert A_DRAFT not in edit and "bozza-ermengarda" not in edit


@pytest.mark.parametrize("owner", [A, B])
def test_an_image_of_another_networks_collection_is_refused(
    client, people, network_a, network_b, owner
):
    import uuid

    from django.core.files.base import ContentFile
    from wagtail.images import get_image_model

    from tests.security.test_wagtail_screens import PNG

    image = get_image_model().objects.create(
        title="Foto riservata Adalgisa",
        file=ContentFile(PNG, name=f"foto-{uuid.uuid4().hex[:8]}.png"),
        collection=(network_a if owner == A else network_b)["network"].collection,
    )
    try:
        client.force_login(people[B_STAFF[0]])
        message = network_b["message"]
        block = {
            "image": {"image": image.pk, "alt_text": "foto", "decorative": ""},
            "caption": "",
            "credit": "",
        }
        form = message_form(
            network_b["network"], segment=network_b["segment"].pk, body=[("image", block)]
        )
        response = client.post(url("edit", message.pk), form)
        message.refresh_from_db()
        if owner == B:  # the network's own photo is welcome
            assert response.status_code == 302
            assert message.body[0].value["image"].pk == image.pk
            return
        assert response.status_code == 200  # the form again, with the error
        assert "Adalgisa" not in client.get(url("edit", message.pk)).text
        assert not any(b.block_type == "image" for b in message.body)
    finally:
        image.file.delete(save=False)


# --- What the public typed, carried into an email -------------------------------------------------


def test_a_donors_name_cannot_inject_mail_headers(network_b, django_capture_on_commit_callbacks):
    """A donor's name comes from a public form: a line break in it must not add a header (a
    Bcc) to the subject, nor stop their email from going."""
    network, segment = network_b["network"], network_b["segment"]
    donor = consenting(network, "Zelinda")
    Donor.objects.filter(pk=donor.pk).update(first_name="Zelinda\r\nBcc: evil@example.org")
    message = Message.objects.create(
        network=network,
        subject="Ciao {nome}",
        preheader="Per {nome}",
        body=[{"type": "paragraph", "value": "<p>Cara {nome}</p>"}],
        segment=segment,
    )
    with django_capture_on_commit_callbacks(execute=True):
        start_sending(message, None)
    sent = [email for email in mail.outbox if "zelinda@example.org" in email.to]
    assert len(sent) == 1
    email = sent[0]
    assert "evil@example.org" not in email.recipients()
    assert "\n" not in email.subject and "\r" not in email.subject
    assert email.message()["Bcc"] is None and not email.bcc
    assert email.subject == "Ciao Zelinda Bcc: evil@example.org"  # one line, as text
    assert Delivery.objects.get(message=message, donor=donor).status == Delivery.Status.SENT


def test_a_gift_to_another_network_through_a_messages_link_is_not_its_result(network_a, network_b):
    from outreach.results import message_results

    delivery = network_a["deliveries"][0]
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
    Donation.objects.create(
        network=network_b["network"],
        amount_cents=99_900,
        status=Donation.Status.SUCCEEDED,
        message_token=delivery.attribution,  # the ?m= of the message's links
    )
    figures = message_results(network_a["sent"])
    assert (figures["gifts"], figures["gifts_cents"]) == (0, 0)


def test_a_treasurer_cannot_make_another_network_take_part(client, people, network_a):
    from outreach.models import CommunityMembership

    client.force_login(people[B_STAFF[1]])
    response = client.post(
        reverse("outreach_community:take_part"),
        {"network": network_a["network"].pk, "takes_part": "on", "year": 2026},
    )
    assert response.status_code in (400, 403, 404)
    assert not CommunityMembership.objects.filter(
        network=network_a["network"], takes_part=True
    ).exists()


@pytest.mark.parametrize(
    "query",
    [
        "?status=bogus",
        "?ordering=created_by__password",
        "?ordering=-network__name",
        "?p=99999",
        "?p=-1",
        "?q=%00",
        "?network=1&network__in=1,2,3",
    ],
)
def test_odd_list_parameters_are_no_500_and_show_no_other_network(
    client, people, network_a, network_b, query
):
    client.force_login(people[B_STAFF[0]])
    for address in (url("index"), url("index_results")):
        response = client.get(address + query)
        assert response.status_code < 500, address + query
        assert_no_secret(response.content.decode(), address + query)
