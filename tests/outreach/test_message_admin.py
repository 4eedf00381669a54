"""Messages to donors in the admin: a network's communicators and treasurers write, preview,
test, send or schedule its messages and read their results; another network's people get 404
and are never offered another network's segments or campaigns."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry, Page
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield
from wagtail.users.models import UserProfile

from campaigns.models import CampaignPage
from crm.models import Donation, Donor
from outreach.models import Delivery, Message, Segment
from outreach.results import message_results
from tests.language.test_admin_walk import visible_texts

COMMUNICATOR = "comunicazione-valle-serena"
TREASURER = "tesoreria-valle-serena"
STRANGER = "comunicazione-oltre-il-ponte"


@pytest.fixture
def users(demo):
    return {u.username: u for u in get_user_model().objects.all()}


def consenting(network, name, **fields):
    return Donor.objects.create(
        network=network,
        first_name=name,
        last_name="Rossi",
        email=f"{name.lower()}@example.org",
        newsletter=True,
        newsletter_confirmed_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def valle(demo):
    """Valle Serena's segment "Everyone": two donors who confirmed the newsletter, one who did
    not; a draft message to it; and the other network's segment and campaign."""
    network = demo["valle-serena"]
    consenting(network, "Anna")
    consenting(network, "Bruno")
    Donor.objects.create(network=network, first_name="Carla", email="carla@example.org")
    segment = Segment.objects.create(network=network, name="Everyone")
    message = Message.objects.create(
        network=network,
        subject="Notizie di dicembre",
        body=[{"type": "paragraph", "value": "<p>Ciao {nome}!</p>"}],
        segment=segment,
    )
    other = demo["oltre-il-ponte"]
    return {
        "network": network,
        "segment": segment,
        "message": message,
        "campaign": CampaignPage.objects.descendant_of(network.page).first(),
        "other_segment": Segment.objects.create(network=other, name="Altrove"),
        "other_campaign": CampaignPage.objects.descendant_of(other.page).first(),
        "other_message": Message.objects.create(
            network=other, subject="Di un'altra rete", body=[], segment=None
        ),
    }


def url(name, *args):
    return reverse(f"outreach_message:{name}", args=args)


def form_post(network, segment="", campaign="", subject="Auguri", **extra):
    return nested_form_data(
        {
            "network": network.pk,
            "segment": segment,
            "campaign": campaign,
            "subject": subject,
            "preheader": "",
            "body": streamfield([("paragraph", rich_text("<p>Buone feste!</p>"))]),
            "subject_en": "",
            "preheader_en": "",
            "body_en": streamfield([]),
            **extra,
        }
    )


# --- Who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [COMMUNICATOR, TREASURER])
def test_the_networks_people_list_and_open_its_messages_only(client, users, valle, who):
    client.force_login(users[who])
    index = client.get(url("index"))
    assert index.status_code == 200
    assert "Notizie di dicembre" in index.text
    assert "Di un&#x27;altra rete" not in index.text and "altra rete" not in index.text
    assert client.get(url("inspect", valle["message"].pk)).status_code == 200
    assert client.get(url("edit", valle["message"].pk)).status_code == 200
    home = client.get(reverse("wagtailadmin_home"))
    assert url("index") in home.text  # the menu item


@pytest.mark.parametrize(
    "name", ["inspect", "edit", "delete", "send", "schedule", "results", "text", "preview_on_edit"]
)
def test_another_networks_message_is_a_404(client, users, valle, name):
    client.force_login(users[COMMUNICATOR])
    assert client.get(url(name, valle["other_message"].pk)).status_code == 404


@pytest.mark.parametrize("name", ["send", "send_test", "cancel_schedule"])
def test_another_networks_message_cannot_be_sent(client, users, valle, name):
    client.force_login(users[COMMUNICATOR])
    other = valle["other_message"]
    assert client.post(url(name, other.pk)).status_code == 404
    other.refresh_from_db()
    assert other.status == Message.Status.DRAFT and not mail.outbox


def test_a_new_networks_communicators_and_treasurers_may_write_messages(network_factory):
    network = network_factory("rete-nuova")
    for group in (network.communicators_group, network.treasurers_group):
        codenames = set(group.permissions.values_list("codename", flat=True))
        assert {"view_message", "add_message", "change_message", "delete_message"} <= codenames


def test_people_of_no_network_are_refused(client, valle):
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("nessuno", "nessuno@example.org", "x")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    for address in (url("index"), url("add"), url("campaign_update")):
        response = client.get(address)  # Wagtail answers "no permission" by going home
        assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    assert url("index") not in client.get(reverse("wagtailadmin_home")).text


def test_the_form_offers_only_the_networks_own_segments_and_campaigns(client, users, valle):
    client.force_login(users[COMMUNICATOR])
    page = client.get(url("add"))
    assert page.status_code == 200
    assert "Everyone" in page.text and valle["campaign"].title in page.text
    assert "Altrove" not in page.text and valle["other_campaign"].title not in page.text
    assert "Oltre il Ponte" not in page.text


@pytest.mark.parametrize("field", ["segment", "campaign", "network"])
def test_another_networks_segment_campaign_or_network_is_refused(client, users, valle, field):
    client.force_login(users[COMMUNICATOR])
    choices = {
        "segment": {"segment": valle["other_segment"].pk},
        "campaign": {"campaign": valle["other_campaign"].pk},
        "network": {},
    }[field]
    network = valle["other_segment"].network if field == "network" else valle["network"]
    response = client.post(url("add"), form_post(network, subject="Intruso", **choices))
    assert response.status_code == 200  # the form again, with its error
    assert not Message.objects.filter(subject="Intruso").exists()


def test_a_message_is_written_with_its_segment_and_english_version(client, users, valle):
    client.force_login(users[COMMUNICATOR])
    data = form_post(
        valle["network"],
        segment=valle["segment"].pk,
        campaign=valle["campaign"].pk,
        subject_en="Season's greetings",
    )
    data.update(
        nested_form_data(
            {"body_en": streamfield([("paragraph", rich_text("<p>Happy holidays!</p>"))])}
        )
    )
    response = client.post(url("add"), data)
    message = Message.objects.get(subject="Auguri")
    assert response.status_code == 302 and response.url == url("inspect", message.pk)
    assert message.segment == valle["segment"] and message.campaign_id == valle["campaign"].pk
    assert message.created_by == users[COMMUNICATOR]
    assert message.subject_en == "Season's greetings" and len(message.body_en) == 1


def test_a_sent_message_can_no_longer_be_changed(client, users, valle):
    message = valle["message"]
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENT)
    client.force_login(users[COMMUNICATOR])
    assert client.get(url("edit", message.pk)).status_code == 302
    response = client.post(url("edit", message.pk), form_post(valle["network"], subject="Nuovo"))
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.subject == "Notizie di dicembre"
    assert client.post(url("delete", message.pk)).status_code == 302
    assert Message.objects.filter(pk=message.pk).exists()


# --- Preview and test ---------------------------------------------------------------------------


def test_the_preview_shows_the_email_and_its_plain_text(client, users, valle):
    message = valle["message"]
    client.force_login(users[COMMUNICATOR])
    data = form_post(valle["network"], segment=valle["segment"].pk, subject="Anteprima")
    assert client.post(url("preview_on_edit", message.pk), data).json()["is_valid"]
    email = client.get(url("preview_on_edit", message.pk), {"mode": "it"})
    assert email.status_code == 200 and "Buone feste!" in email.text
    text = client.get(url("preview_on_edit", message.pk), {"mode": "it-text"})
    assert "Buone feste!" in text.text and "<p>" not in text.text.split("<pre", 1)[1]
    assert client.get(url("preview_on_edit", message.pk), {"mode": "xx"}).status_code == 404
    plain = client.get(url("text", message.pk))
    assert plain.status_code == 200 and "Ciao" in plain.text
    # a page of the admin, with the way back and the other language
    assert url("inspect", message.pk) in plain.text and "?language=en" in plain.text
    assert client.get(url("text", message.pk), {"language": "xx"}).status_code == 404
    message.refresh_from_db()
    assert message.subject == "Notizie di dicembre"  # previewing saves nothing


def test_a_test_goes_to_the_users_own_address(client, users, valle):
    user = users[COMMUNICATOR]
    client.force_login(user)
    response = client.post(url("send_test", valle["message"].pk), follow=True)
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert f"Test sent to {user.email}." in response.text
    user.email = ""
    user.save()
    response = client.post(url("send_test", valle["message"].pk), follow=True)
    assert "Your account has no email address" in response.text
    assert len(mail.outbox) == 1


# --- Send and schedule --------------------------------------------------------------------------


def test_the_question_counts_the_consenting_members_and_one_post_sends_once(
    client, users, valle, django_capture_on_commit_callbacks
):
    message = valle["message"]
    client.force_login(users[TREASURER])
    question = client.get(url("send", message.pk))
    assert question.status_code == 200
    assert "Send “Notizie di dicembre” to 2 donors of “Everyone”?" in question.text
    assert "1 more have not confirmed the newsletter" in question.text
    with django_capture_on_commit_callbacks(execute=True):  # the worker's tasks, at once
        first = client.post(url("send", message.pk))
    assert first.status_code == 302
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.recipients == 2 and message.sent_by == users[TREASURER]
    started_at = message.started_at
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url("send", message.pk), follow=True)
    assert "already been sent" in second.text
    message.refresh_from_db()
    assert message.started_at == started_at
    sends = ModelLogEntry.objects.filter(action="outreach.message.send", object_id=str(message.pk))
    assert [entry.data for entry in sends] == [{"recipients": 2}]
    history = client.get(url("history", message.pk))
    assert history.status_code == 200 and "Sending to the donors started" in history.text
    assert Delivery.objects.filter(message=message).count() == 2
    assert sorted(d.to for d in Delivery.objects.filter(message=message)) == [
        "anna@example.org",
        "bruno@example.org",
    ]
    assert sorted(email.to[0] for email in mail.outbox) == [
        "anna@example.org",
        "bruno@example.org",
    ]


def test_a_message_with_nobody_to_receive_it_is_not_sent(client, users, valle):
    message = valle["message"]
    Message.objects.filter(pk=message.pk).update(segment=None)
    client.force_login(users[COMMUNICATOR])
    assert "Nobody to send it to" in client.get(url("send", message.pk)).text
    assert client.post(url("send", message.pk)).status_code == 400
    message.refresh_from_db()
    assert message.status == Message.Status.DRAFT


@pytest.mark.parametrize(
    "date, time, error",
    [
        ("2020-01-01", "09:00", "Choose a day and time in the future."),
        ("2026-13-45", "09:00", "Enter a valid date."),
        ("", "", "This field is required."),
        ("2099-01-01", "25:99", "Enter a valid time."),
    ],
)
def test_a_bad_or_past_schedule_changes_nothing(client, users, valle, date, time, error):
    message = valle["message"]
    client.force_login(users[COMMUNICATOR])
    response = client.post(url("schedule", message.pk), {"date": date, "time": time})
    assert response.status_code == 400 and error in response.text
    message.refresh_from_db()
    assert message.status == Message.Status.DRAFT and message.send_at is None


def test_a_message_is_scheduled_in_local_time_and_the_schedule_cancelled(client, users, valle):
    message = valle["message"]
    client.force_login(users[COMMUNICATOR])
    day = timezone.localdate() + datetime.timedelta(days=3)
    response = client.post(url("schedule", message.pk), {"date": day.isoformat(), "time": "09:30"})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == Message.Status.SCHEDULED
    local = timezone.localtime(message.send_at)
    assert (local.date(), local.hour, local.minute) == (day, 9, 30)
    page = client.get(url("inspect", message.pk))
    assert day.strftime("%d/%m/%Y") + " 09:30" in page.text
    assert client.post(url("cancel_schedule", message.pk)).status_code == 302
    message.refresh_from_db()
    assert message.status == Message.Status.DRAFT


def test_the_form_tells_the_placeholders(client, users, valle):
    client.force_login(users[COMMUNICATOR])
    set_language(users[COMMUNICATOR], "it")
    page = client.get(url("edit", valle["message"].pk)).text
    for placeholder in ("{nome}", "{ultimo_dono}", "{campagna}"):
        assert placeholder in page, placeholder


def test_the_messages_page_shows_what_it_is_and_where_it_stands(client, users, valle):
    # given a draft to the segment "Everyone", then the same scheduled
    message = valle["message"]
    client.force_login(users[COMMUNICATOR])
    texts = visible_texts(client.get(url("inspect", message.pk)).text)
    # then its page reads its subject, audience and status, and no recipients yet
    for shown in ("Subject", "Notizie di dicembre", "Who receives it", "Everyone", "Draft"):
        assert shown in texts, shown
    assert texts[texts.index("Recipients") + 1] == "—"
    day = timezone.localdate() + datetime.timedelta(days=3)
    client.post(url("schedule", message.pk), {"date": day.isoformat(), "time": "09:30"})
    texts = visible_texts(client.get(url("inspect", message.pk)).text)
    # scheduled: counted only when sending starts, so still no "0"
    assert "Scheduled" in texts and texts[texts.index("Recipients") + 1] == "—"
    # cancelled: a draft again, sent by nobody
    client.post(url("cancel_schedule", message.pk))
    texts = visible_texts(client.get(url("inspect", message.pk)).text)
    assert "Draft" in texts and texts[texts.index("Sent by") + 1] == "—"


# --- Results ------------------------------------------------------------------------------------


@pytest.fixture
def sent_message(valle):
    """A message sent ten days ago to five donors, and gifts made through its links (or not)."""
    network, message = valle["network"], valle["message"]
    sent = timezone.now() - datetime.timedelta(days=10)
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENT, recipients=5, started_at=sent, finished_at=sent
    )
    message.refresh_from_db()
    fates = [
        {"status": "delivered", "delivered_at": sent, "opened_at": sent, "clicked_at": sent},
        {"status": "delivered", "delivered_at": sent, "opened_at": sent, "unsubscribed_at": sent},
        {"status": "delivered", "delivered_at": sent},
        {"status": "bounced"},
        {"status": "sent"},
    ]
    deliveries = []
    for i, fate in enumerate(fates):
        donor = Donor.objects.create(network=network, last_name=f"D{i}", email=f"d{i}@ex.org")
        deliveries.append(
            Delivery.objects.create(
                message=message,
                donor=donor,
                to=donor.email,
                token=f"tok{i}",
                sent_at=sent,
                **fate,
            )
        )
    other_delivery = Delivery.objects.create(
        message=valle["other_message"],
        donor=Donor.objects.create(network=valle["other_message"].network, last_name="Z"),
        to="z@ex.org",
        token="othertok",
        sent_at=sent,
        status="sent",
    )

    def gift(delivery, cents, *, after_days=1, status="succeeded", refunded=0):
        donation = Donation.objects.create(
            network=delivery.donor.network,
            donor=delivery.donor,
            amount_cents=cents,
            refunded_cents=refunded,
            received_on=timezone.localdate(),
            status=status,
            message_token=delivery.attribution,
        )
        Donation.objects.filter(pk=donation.pk).update(
            created_at=sent + datetime.timedelta(days=after_days)
        )

    gift(deliveries[0], 5000)  # counted
    gift(deliveries[1], 123450, refunded=450, status="partially_refunded")  # counted, net
    gift(deliveries[2], 7000, after_days=31)  # too late
    gift(deliveries[2], 8000, status="refunded", refunded=8000)  # not counted
    gift(deliveries[0], 9000, after_days=-1)  # before the email
    gift(other_delivery, 10000)  # another message's
    return message


def test_results_count_deliveries_and_the_gifts_through_its_links(sent_message):
    assert message_results(sent_message) == {
        "sent": 5,
        "delivered": 3,
        "opened": 2,
        "clicked": 1,
        "unsubscribed": 1,
        "bounced": 1,
        "complained": 0,
        "not_sent": 0,
        "gifts": 2,
        "gifts_cents": 5000 + 123000,
    }


def test_the_results_page_reads_as_people_read(client, users, sent_message):
    client.force_login(users[COMMUNICATOR])
    set_language(users[COMMUNICATOR], "it")
    page = client.get(url("results", sent_message.pk))
    assert page.status_code == 200
    assert "€\xa01.280,00" in page.text
    set_language(users[COMMUNICATOR], "en")
    assert "€\xa01,280.00" in client.get(url("results", sent_message.pk)).text


# --- A campaign's update in one step ------------------------------------------------------------


def test_a_campaign_update_becomes_a_draft_for_the_campaigns_consenting_donors(
    client, users, valle
):
    campaign = valle["campaign"]
    network = valle["network"]
    anna = Donor.objects.get(network=network, first_name="Anna")
    carla = Donor.objects.get(network=network, first_name="Carla")
    for donor in (anna, carla):
        Donation.objects.create(
            network=network,
            donor=donor,
            campaign=campaign,
            amount_cents=2500,
            received_on=timezone.localdate(),
            status="succeeded",
        )
    today = timezone.localdate()
    campaign.updates = [
        ("update", {"date": today, "title": "Il tetto è finito", "text": "<p>Grazie!</p>"}),
        ("update", {"date": today - datetime.timedelta(days=9), "title": "Vecchio", "text": ""}),
    ]
    campaign.save_revision().publish()
    client.force_login(users[COMMUNICATOR])
    chooser = client.get(url("campaign_update"))
    assert campaign.title in chooser.text and valle["other_campaign"].title not in chooser.text
    response = client.post(url("campaign_update"), {"campaign": campaign.pk})
    message = Message.objects.get(subject="Il tetto è finito")
    assert response.status_code == 302 and response.url == url("send", message.pk)
    assert message.status == Message.Status.DRAFT and message.segment is None
    assert message.campaign_id == campaign.pk and message.network == network
    assert [block.block_type for block in message.body] == ["paragraph", "button"]
    assert message.body[1].value["page"].pk == campaign.pk
    question = client.get(response.url)
    assert (
        f"Send “Il tetto è finito” to 1 donor of the campaign “{campaign.title}”?" in question.text
    )
    assert "1 more have not confirmed" in question.text
    assert "already went to these donors" not in question.text
    # the same update sent before: the question says so
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENT, started_at=timezone.now()
    )
    client.post(url("campaign_update"), {"campaign": campaign.pk})
    again = Message.objects.filter(subject="Il tetto è finito").latest("pk")
    assert "already went to these donors" in client.get(url("send", again.pk)).text


def test_another_networks_campaign_or_one_with_no_update_makes_no_message(client, users, valle):
    client.force_login(users[COMMUNICATOR])
    before = Message.objects.count()
    other = client.post(url("campaign_update"), {"campaign": valle["other_campaign"].pk})
    assert other.status_code == 400
    campaign = valle["campaign"]
    campaign.updates = []
    campaign.save_revision().publish()
    empty = client.post(url("campaign_update"), {"campaign": campaign.pk})
    assert empty.status_code == 400 and "no update yet" in empty.text
    assert Message.objects.count() == before


# --- As people read it --------------------------------------------------------------------------


def set_language(user, language):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()


DEVELOPER_VALUES = re.compile(r"^(None|True|False|\{\}|\[\])$|\b(123000|128000)\b")


@pytest.mark.parametrize("language", ["it", "en"])
def test_no_developer_values_on_the_message_pages(client, users, sent_message, valle, language):
    user = users[COMMUNICATOR]
    set_language(user, language)
    client.force_login(user)
    draft = Message.objects.create(
        network=valle["network"], subject="Bozza", body=[], campaign=valle["campaign"]
    )
    pages = [
        url("index"),
        url("add"),
        url("inspect", sent_message.pk),
        url("results", sent_message.pk),
        url("inspect", draft.pk),
        url("edit", draft.pk),
        url("send", draft.pk),
        url("schedule", draft.pk),
        url("campaign_update"),
        url("history", draft.pk),
        url("delete", draft.pk),
        url("index") + "?status=sent",
    ]
    for address in pages:
        response = client.get(address)
        assert response.status_code == 200, address
        shown = [text for text in visible_texts(response.text) if DEVELOPER_VALUES.search(text)]
        assert shown == [], address
    assert Page.objects.filter(pk=valle["campaign"].pk).exists()
