"""Gifts in memory or in honour of someone: chosen on the form, the family told by email only
with the donor's consent (the amount only if agreed), in the donor's language; a memorial
campaign gathers every gift in memory of its person. What is typed is a claim: it never
changes what we know of the donor."""

import pytest
from django.urls import reverse
from django.utils import translation

from campaigns.forms import DonationForm
from crm import gifts
from crm.models import Donation, Donor, DonorEmail

FORM = {
    "amount": "2500",
    "frequency": "once",
    "first_name": "Anna",
    "last_name": "Rossi",
    "email": "anna@example.org",
    "privacy": "on",
}


def give_url(campaign, language="it"):
    with translation.override(language):
        return reverse("campaigns:give", args=[campaign.pk])


def clean(campaign, **data):
    form = DonationForm({**FORM, **data}, campaign=campaign)
    form.is_valid()
    return form


def test_a_tribute_needs_the_persons_name(campaign):
    form = clean(campaign, tribute="memory")
    assert "tribute_name" in form.errors


def test_the_familys_address_is_kept_only_with_the_donors_consent(campaign):
    form = clean(
        campaign,
        tribute="honour",
        tribute_name="Nonna Pia",
        tribute_notify_email="famiglia@example.org",
        tribute_show_amount="on",
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tribute_notify_email"] == ""
    assert form.cleaned_data["tribute_show_amount"] is False
    asked = clean(campaign, tribute="honour", tribute_name="Nonna Pia", tribute_notify="on")
    assert "tribute_notify_email" in asked.errors


def test_a_memorial_campaign_makes_every_gift_in_memory_of_its_person(campaign):
    campaign.memorial_of = "Giovanni Bianchi"
    form = clean(campaign, tribute="honour", tribute_name="Someone else")
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["tribute"], form.cleaned_data["tribute_name"]) == (
        "memory",
        "Giovanni Bianchi",
    )


def _pay(donation, capture):
    with capture(execute=True):
        gifts.record_payment(donation, amount_cents=donation.amount_cents, currency="eur")
    donation.refresh_from_db()
    return donation


@pytest.mark.parametrize("show_amount", [False, True])
def test_the_family_is_told_once_in_the_donors_language(
    campaign, pending_donation, mailoutbox, django_capture_on_commit_callbacks, show_amount
):
    # given a known donor, English-speaking, and a gift in memory of Pia with the family's
    # address given with consent (a different name typed: a claim, never their record)
    Donor.objects.create(
        network=campaign.network,
        first_name="Anna",
        last_name="Rossi",
        email="anna.rossi@example.org",
        language="en",
    )
    donation = pending_donation(
        4250,
        tribute="memory",
        tribute_name="Pia Verdi",
        tribute_notify_email="famiglia.verdi@example.org",
        tribute_show_amount=show_amount,
    )

    # when the payment arrives, twice
    _pay(donation, django_capture_on_commit_callbacks)
    _pay(donation, django_capture_on_commit_callbacks)

    # then the family gets one notice, in English, naming the donor and Pia
    notices = [m for m in mailoutbox if m.to == ["famiglia.verdi@example.org"]]
    assert len(notices) == 1
    (notice,) = notices
    assert "in memory of Pia Verdi" in notice.subject
    assert "Anna Rossi" in notice.body and campaign.title in notice.body
    assert ("42,50" in notice.body or "42.50" in notice.body) is show_amount
    assert DonorEmail.objects.filter(kind="tribute", donation=donation).count() == 1
    donor = Donor.objects.get(email="anna.rossi@example.org")
    assert (donor.first_name, donor.last_name) == ("Anna", "Rossi")


def test_no_consent_no_notice(
    campaign, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    donation = pending_donation(2500, tribute="honour", tribute_name="Marco")
    _pay(donation, django_capture_on_commit_callbacks)
    assert not DonorEmail.objects.filter(kind="tribute").exists()
    assert all(m.to == ["anna.rossi@example.org"] for m in mailoutbox)


def test_the_form_records_the_tribute_and_the_memorial_page_says_it(
    client, campaign, stripe_standin
):
    campaign.memorial_of = "Giovanni Bianchi"
    campaign.save_revision().publish()
    page = client.get(campaign.url).content.decode()
    assert "In memoria di Giovanni Bianchi" in page

    response = client.post(
        give_url(campaign),
        {
            **FORM,
            "tribute_notify": "on",
            "tribute_notify_email": "bianchi@example.org",
        },
    )
    assert response.status_code == 303
    donation = Donation.objects.get()
    assert (donation.tribute, donation.tribute_name, donation.tribute_notify_email) == (
        "memory",
        "Giovanni Bianchi",
        "bianchi@example.org",
    )
    assert donation.tribute_show_amount is False


@pytest.mark.parametrize(
    ("prefix", "legend", "labels"),
    [
        (
            "",
            "Dedica il dono (facoltativo)",
            ["Tipo di dedica", "Nome della persona", "Messaggio", "Email della famiglia"],
        ),
        (
            "/en",
            "Dedicate your gift (optional)",
            ["Kind of dedication", "Name of the person", "Message", "The family's email"],
        ),
    ],
)
def test_the_dedication_section_says_each_thing_once(client, campaign, prefix, legend, labels):
    # found walking the demo: "In memoria o in onore di qualcuno" as the legend and again as the
    # box's label, and a "Dedica (ad es. in memoria di…)" box outside it saying it a third time
    import re
    from html import unescape

    html = client.get(prefix + campaign.url).content.decode()
    (section,) = re.findall(r'<fieldset class="tribute">(.*?)</fieldset>', html, re.S)
    found_legend = re.search(r"<legend>(.*?)</legend>", section, re.S).group(1).strip()
    boxes = re.findall(r'<label for="([^"]+)">([^<*]*?)(?: \*)?</label>', section)
    assert found_legend == legend
    assert [unescape(text).strip() for _for, text in boxes] == labels
    for box_id, _text in boxes:  # each label names its own box, inside the section
        assert f'id="{box_id}"' in section
    assert found_legend not in [text for _for, text in boxes]
    # the free-text message lives in the section, not a second "dedication" outside it
    assert 'name="dedication"' in section and html.count('name="dedication"') == 1
    options = re.findall(r"<option[^>]*>(.*?)</option>", section)
    assert options == (
        ["Nessuna dedica", "In memoria di", "In onore di"]
        if not prefix
        else ["No dedication", "In memory of", "In honour of"]
    )


@pytest.mark.parametrize(
    ("language", "wrote", "subject"),
    [
        ("it", "Anna Rossi ha scritto:", "Un dono in memoria di Nonno <Pino> & Nonna"),
        ("en", "Anna Rossi wrote:", "A gift in memory of Nonno <Pino> & Nonna"),
    ],
)
def test_the_family_reads_the_donors_message_as_typed(
    campaign,
    pending_donation,
    mailoutbox,
    django_capture_on_commit_callbacks,
    language,
    wrote,
    subject,
):
    # found walking the demo: the "Messaggio" box sits in the dedication section, next to
    # "tell the family", yet the family's email left it out; and the subject read
    # "Nonno &lt;Pino&gt;", a plain-text line escaped as if it were HTML
    Donor.objects.create(
        network=campaign.network,
        first_name="Anna",
        last_name="Rossi",
        email="anna.rossi@example.org",
        language=language,
    )
    message = 'Ciao nonno, ti pensiamo <3 & "grazie" <script>x</script>'
    donation = pending_donation(
        2500,
        tribute="memory",
        tribute_name="Nonno <Pino> & Nonna",
        dedication=message,
        tribute_notify_email="famiglia@example.org",
    )

    _pay(donation, django_capture_on_commit_callbacks)

    (notice,) = [m for m in mailoutbox if m.to == ["famiglia@example.org"]]
    assert notice.subject == subject
    assert wrote in notice.body and message in notice.body  # plain text, as typed
    html = notice.alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "ti pensiamo &lt;3 &amp;" in html


def test_without_a_message_the_family_reads_no_empty_quote(
    campaign, pending_donation, mailoutbox, django_capture_on_commit_callbacks
):
    donation = pending_donation(
        2500, tribute="honour", tribute_name="Marco", tribute_notify_email="fam@example.org"
    )
    _pay(donation, django_capture_on_commit_callbacks)
    (notice,) = [m for m in mailoutbox if m.to == ["fam@example.org"]]
    assert "scritto" not in notice.body and "wrote" not in notice.body
    assert "“”" not in notice.body
