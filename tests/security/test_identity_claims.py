"""Identity claims: what a donor types on the public form is a claim, not a fact (issue 9).

Attacks through the real doors: the donation form (with the Stripe stand-in behind it), the
signed webhook delivery that completes the gift, the emailed confirmation link, and the
treasurer's duplicates screen. A gift never overwrites, nor fills in, an existing donor's
name, email, address or consents; its receipt and emails go to what was typed with it.
"""

import re
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import registry as log_registry

from campaigns.models import WallName, invalidate_progress
from crm.links import (
    DOWNLOAD_SALT,
    NEWSLETTER_MAX_AGE,
    NEWSLETTER_SALT,
    newsletter_confirm_token,
)
from crm.models import Donation, Donor, DonorEmail, Receipt
from crm.tax_data import tax_data
from tests.campaigns import conftest as giving
from tests.campaigns import payloads
from tests.campaigns.conftest import event
from tests.pdfs import pdf_text

# The giving fixtures live in tests/campaigns/conftest.py; these names make them ours here.
campaign = giving.campaign
deliver = giving.deliver
_clear_cache = giving._clear_cache

pytestmark = pytest.mark.django_db

MARIA = {
    "first_name": "Maria",
    "last_name": "Bianchi",
    "email": "maria.bianchi@example.org",
    "codice_fiscale": "RSSMRA80A01H501U",
    "street_address": "Via dei Tigli 4",
    "postal_code": "40121",
    "city": "Bologna",
    "province": "BO",
}
STRANGER = {
    "first_name": "Mallory",
    "last_name": "Intrusa",
    "email": "mallory@altrove.example",
    "street_address": "Corso Garibaldi 99",
    "postal_code": "10122",
    "city": "Torino",
    "province": "TO",
}


def existing_donor(campaign, **fields):
    """A donor already on record in the campaign's network, with consents withheld."""
    values = {
        **MARIA,
        "privacy_notice_version": "2025-01",
        "newsletter": False,
        "public_mention": False,
        "source": "online",
        **fields,
    }
    return Donor.objects.create(network=campaign.network, **values)


def record(donor):
    """Everything of a donor a gift must not change."""
    donor.refresh_from_db()
    fields = [f.name for f in Donor._meta.concrete_fields if f.name != "updated_at"]
    return {name: getattr(donor, name) for name in fields}


@pytest.fixture
def give_and_pay(client, campaign, stripe_standin, deliver, django_capture_on_commit_callbacks):
    """Fill in the real donation form (the stand-in plays Stripe Checkout), then deliver the
    signed completion of that very session, running what the worker runs after commit."""

    def give(**typed):
        form = {"amount": "5000", "frequency": "once", "privacy": "on", **typed}
        response = client.post(reverse("campaigns:give", args=[campaign.pk]), form)
        assert response.status_code == 303, response.content.decode()[:2000]
        donation = Donation.objects.order_by("-pk").first()
        session = payloads.checkout_session(donation, pi=f"pi_test_gift{donation.pk}")
        completed = event("checkout.session.completed", session)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(completed).status_code == 200
        donation.refresh_from_db()
        return donation

    return give


# --- codice fiscale or email of someone else -----------------------------------------------------


def test_someones_codice_fiscale_with_another_name_and_email_is_a_new_flagged_donor(
    campaign, give_and_pay, mailoutbox
):
    # given Maria on record, with her codice fiscale, address and email
    maria = existing_donor(campaign)
    before = record(maria)

    # when a stranger gives with Maria's codice fiscale but their own name and email, asking
    # for a receipt, the newsletter and a public mention
    gift = give_and_pay(
        **STRANGER,
        codice_fiscale=MARIA["codice_fiscale"].lower(),
        wants_receipt="on",
        newsletter="on",
        public_mention="on",
    )

    # then the gift succeeded against a NEW donor made of what was typed, flagged as a possible
    # duplicate of Maria, and nothing of Maria changed
    assert gift.status == Donation.Status.SUCCEEDED
    assert record(maria) == before
    stranger = gift.donor
    assert stranger.pk != maria.pk
    assert (stranger.first_name, stranger.last_name, stranger.email) == (
        "Mallory",
        "Intrusa",
        "mallory@altrove.example",
    )
    assert stranger.possible_duplicate_of == maria
    assert stranger.newsletter is False  # waits for the confirmation click

    # and the receipt names the typed name and address, not Maria's
    receipt = Receipt.objects.get(donations=gift)
    assert receipt.donor == stranger
    with receipt.pdf.open("rb") as fh:
        text = pdf_text(fh.read())
    assert "Mallory Intrusa" in text and "Corso Garibaldi 99" in text
    assert "Bianchi" not in text and "Via dei Tigli" not in text

    # and every email for the gift went to the typed address, none to Maria
    recipients = sorted(tuple(m.to) for m in mailoutbox)
    assert recipients == [("mallory@altrove.example",), ("mallory@altrove.example",)]
    assert DonorEmail.objects.filter(to=MARIA["email"]).count() == 0


def test_the_same_person_typed_differently_is_attached_without_any_change(campaign, give_and_pay):
    # given Anna D'Alò on record, with her email and no codice fiscale
    anna = existing_donor(
        campaign,
        first_name="Anna",
        last_name="D'Alò",
        email="anna.dalo@example.org",
        codice_fiscale="",
        street_address="",
        postal_code="",
        city="",
        province="",
    )
    before = record(anna)

    # when she gives again, typing her name in lower case, without the accent, with a curly
    # apostrophe and stray spaces, and ticking both consents
    gift = give_and_pay(
        first_name="  anna ",
        last_name="d’alo",
        email="Anna.Dalo@Example.org",
        newsletter="on",
        public_mention="on",
    )

    # then the gift is hers, and her record is exactly as it was (consents included)
    assert gift.donor == anna
    assert record(anna) == before
    # and her newsletter consent waits for the link emailed to her own address
    confirmation = DonorEmail.objects.get(kind=DonorEmail.Kind.NEWSLETTER_CONFIRM)
    assert (confirmation.donor, confirmation.to) == (anna, "anna.dalo@example.org")


def test_a_returning_donor_who_adds_a_codice_fiscale_is_flagged_not_filled_in(
    campaign, give_and_pay
):
    # given Anna on record without a codice fiscale or address
    anna = existing_donor(
        campaign,
        first_name="Anna",
        last_name="Rossi",
        email="anna@example.org",
        codice_fiscale="",
        street_address="",
        postal_code="",
        city="",
        province="",
    )
    before = record(anna)
    # when a gift with her name and email adds a codice fiscale and an address for a receipt
    gift = give_and_pay(
        first_name="Anna",
        last_name="Rossi",
        email="anna@example.org",
        codice_fiscale="RSSNNA80A41F205O",
        wants_receipt="on",
        street_address="Via Roma 1",
        postal_code="00100",
        city="Roma",
    )
    # then nothing is filled in on her record: the receipt's details are a new donor's, flagged
    assert record(anna) == before
    assert gift.donor != anna and gift.donor.possible_duplicate_of == anna
    assert Receipt.objects.get(donations=gift).donor_snapshot["codice_fiscale"] == (
        "RSSNNA80A41F205O"
    )


def test_a_stranger_ticking_news_with_someones_email_changes_none_of_their_consents(
    campaign, give_and_pay, client
):
    # given Lucia on record, who never asked for news nor to be named
    lucia = existing_donor(
        campaign, first_name="Lucia", last_name="Verdi", email="lucia@example.org"
    )
    before = record(lucia)

    # when a stranger gives with Lucia's email, ticking the newsletter and the public mention
    gift = give_and_pay(
        first_name="Eve",
        last_name="Estranea",
        email="lucia@example.org",
        newsletter="on",
        public_mention="on",
    )

    # then Lucia's consents (and all the rest) are unchanged; the gift has its own donor
    assert record(lucia) == before
    assert gift.donor != lucia and gift.donor.possible_duplicate_of == lucia
    assert gift.donor.newsletter is False
    # and the newsletter starts only if the owner of the mailbox confirms: the link went there
    confirmation = DonorEmail.objects.get(kind=DonorEmail.Kind.NEWSLETTER_CONFIRM)
    assert confirmation.to == "lucia@example.org"
    assert not Donor.objects.filter(newsletter=True).exists()


# --- the treasurer decides --------------------------------------------------------------------


def test_flagged_donors_come_first_on_the_duplicates_screen_and_merging_clears_the_flag(
    campaign, give_and_pay, client, admin_user
):
    # given a look-alike pair by name and postal code, then a gift flagged against Maria
    Donor.objects.create(network=campaign.network, first_name="Ugo", last_name="Neri")
    Donor.objects.create(network=campaign.network, first_name="Ugo", last_name="Neri")
    maria = existing_donor(campaign)
    gift = give_and_pay(**STRANGER, codice_fiscale=MARIA["codice_fiscale"])
    stranger = gift.donor

    # when the treasurer opens the duplicates screen
    client.force_login(admin_user)
    page = client.get("/admin/crm/donors/duplicates/").content.decode()

    # then the flagged pair is the first row, with "not the same person" offered
    rows = page.split('<table class="listing">')[1].split("<tr>")[1:]
    assert f"/admin/crm/donors/inspect/{maria.pk}/" in rows[0]
    assert f"/admin/crm/donors/inspect/{stranger.pk}/" in rows[0]
    assert f"/admin/crm/donors/{stranger.pk}/not-duplicate/" in rows[0]
    assert "Ugo" in page
    donor_page = client.get(f"/admin/crm/donors/inspect/{stranger.pk}/").content.decode()
    assert 'data-testid="possible-duplicate"' in donor_page

    # when they merge the new donor into Maria, the flag is gone and Maria keeps her email
    response = client.post(f"/admin/crm/donors/{maria.pk}/merge/", {"duplicate": stranger.pk})
    assert response.status_code == 302
    stranger.refresh_from_db()
    maria.refresh_from_db()
    assert stranger.merged_into == maria and stranger.possible_duplicate_of is None
    assert maria.email == MARIA["email"]
    assert not Donor.objects.filter(possible_duplicate_of__isnull=False).exists()
    assert (
        f"/admin/crm/donors/inspect/{stranger.pk}/"
        not in client.get("/admin/crm/donors/duplicates/").content.decode()
    )


def test_not_the_same_person_clears_the_flag_only_by_post(
    campaign, give_and_pay, client, admin_user
):
    # given a donor flagged as a possible duplicate of Maria: a gift with her email (sharing a
    # codice fiscale is another case: "not the same person" first wants one of them corrected)
    existing_donor(campaign)
    stranger = give_and_pay(**{**STRANGER, "email": MARIA["email"]}).donor
    url = f"/admin/crm/donors/{stranger.pk}/not-duplicate/"
    client.force_login(admin_user)
    # when the treasurer follows the action by GET, nothing changes
    assert client.get(url).status_code == 405
    stranger.refresh_from_db()
    assert stranger.possible_duplicate_of is not None
    # when they POST it, the flag is cleared
    assert client.post(url).status_code == 302
    stranger.refresh_from_db()
    assert stranger.possible_duplicate_of is None


# --- the newsletter: double opt-in ---------------------------------------------------------------


def confirm_path(message):
    found = re.search(r"https?://[^\s]+(/crm/newsletter/[^\s/]+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_the_newsletter_starts_only_when_the_signed_link_is_posted(
    campaign, give_and_pay, client, mailoutbox
):
    # given a new donor who ticked "send me news" with their gift
    gift = give_and_pay(
        first_name="Nora", last_name="Nuova", email="nora@example.org", newsletter="on"
    )
    donor = gift.donor
    # then no consent yet, and one confirmation email with a signed link went to the address
    assert donor.newsletter is False and donor.newsletter_confirmed_at is None
    (message,) = [m for m in mailoutbox if "/crm/newsletter/" in m.body]
    assert message.to == ["nora@example.org"]
    path = confirm_path(message)

    # when the link is opened (as mail scanners do), the page asks and nothing changes
    page = client.get(path)
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()
    donor.refresh_from_db()
    assert donor.newsletter is False

    # when the donor presses the button, the consent is given with its time
    confirmed = client.post(path)
    assert confirmed.status_code == 200
    assert 'data-status="confirmed"' in confirmed.content.decode()
    donor.refresh_from_db()
    assert donor.newsletter is True and donor.newsletter_confirmed_at is not None
    # and pressing it again changes nothing
    first_time = donor.newsletter_confirmed_at
    assert client.post(path).status_code == 200
    donor.refresh_from_db()
    assert donor.newsletter_confirmed_at == first_time


def test_a_second_gift_asks_no_second_confirmation(campaign, give_and_pay, mailoutbox):
    # given a donor already asked to confirm
    first = give_and_pay(
        first_name="Ada", last_name="Poli", email="ada@example.org", newsletter="on"
    )
    # when the same person gives again with the box ticked
    second = give_and_pay(
        first_name="Ada", last_name="Poli", email="ada@example.org", newsletter="on"
    )
    # then one confirmation email only
    assert second.donor == first.donor
    assert DonorEmail.objects.filter(kind=DonorEmail.Kind.NEWSLETTER_CONFIRM).count() == 1
    assert len([m for m in mailoutbox if "/crm/newsletter/" in m.body]) == 1


def test_the_confirmation_is_a_post_with_a_csrf_token(campaign, give_and_pay, mailoutbox):
    gift = give_and_pay(
        first_name="Ciro", last_name="Esse", email="ciro@example.org", newsletter="on"
    )
    path = confirm_path(next(m for m in mailoutbox if "/crm/newsletter/" in m.body))
    # when another site makes the donor's browser post the confirmation (no CSRF token)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(path).status_code == 403
    # then nothing is consented
    gift.donor.refresh_from_db()
    assert gift.donor.newsletter is False


class _LongAgo(signing.TimestampSigner):
    def timestamp(self):
        return signing.b62_encode(int(time.time()) - NEWSLETTER_MAX_AGE - 60)


@pytest.mark.parametrize("how", ["forged", "cut short", "other salt", "expired", "address changed"])
def test_forged_expired_or_stale_confirmation_links_are_refused(client, campaign, how):
    # given a donor who was sent a confirmation link
    donor = existing_donor(campaign)
    token = newsletter_confirm_token(donor)
    if how == "forged":
        token = signing.dumps({"d": donor.pk, "e": "0" * 16}, salt=NEWSLETTER_SALT, key="x" * 50)
    elif how == "cut short":
        token = token[:-6]
    elif how == "other salt":  # a receipt link's token, replayed here
        token = signing.dumps({"d": donor.pk, "e": "0" * 16}, salt=DOWNLOAD_SALT)
    elif how == "expired":
        token = _LongAgo(salt=NEWSLETTER_SALT).sign_object(
            {"d": donor.pk, "e": signing.loads(token, salt=NEWSLETTER_SALT)["e"]}
        )
    else:  # the treasurer corrected the address since: the old mailbox cannot confirm
        Donor.objects.filter(pk=donor.pk).update(email="maria.nuova@example.org")
    path = reverse("crm:newsletter_confirm", args=[token])
    # when it is opened and posted
    for response in (client.get(path), client.post(path)):
        # then a clear 4xx page (Italian by default), and nothing consented
        assert response.status_code == (410 if how == "expired" else 404)
        status = "expired" if how == "expired" else "invalid"
        assert f'data-status="{status}"' in response.content.decode()
    donor.refresh_from_db()
    assert donor.newsletter is False


def test_the_confirmation_page_speaks_the_donors_language(client, campaign):
    donor = existing_donor(campaign, language="en")
    page = client.get(reverse("crm:newsletter_confirm", args=[newsletter_confirm_token(donor)]))
    assert page.status_code == 200
    assert "Yes, send me the news" in page.content.decode()


# --- the donor wall -------------------------------------------------------------------------------


def wall(campaign):
    """The donor wall as the page shows it: approved first names, and how many others gave."""
    invalidate_progress(campaign.pk)
    progress = campaign._compute_progress()
    return progress["wall"], progress["wall_others"]


def approve_every_name(campaign):
    # A communicator approves every name waiting on the wall (issue 13: the wall is moderated).
    for gift in Donation.objects.filter(campaign=campaign, anonymous=False):
        WallName.objects.update_or_create(donation=gift, defaults={"approved": True})


def test_the_donor_wall_names_a_gift_only_with_its_own_consent(campaign, give_and_pay, client):
    campaign.donor_wall = True
    campaign.save_revision().publish()
    # given a donor on record who once agreed to be named
    existing_donor(
        campaign, first_name="Pia", last_name="Nota", email="pia@example.org", public_mention=True
    )
    # when she gives again without ticking "you may name me"
    quiet = give_and_pay(first_name="Pia", last_name="Nota", email="pia@example.org")
    # then that gift is anonymous on the wall, her stored consent notwithstanding, even once a
    # communicator approved every name there is
    assert quiet.donor.public_mention is True and quiet.anonymous is True
    approve_every_name(campaign)
    assert wall(campaign) == ([], 1)
    # when someone gives ticking it, that gift is named (first name only) once approved
    give_and_pay(
        first_name="Gino", last_name="Lieto", email="gino@example.org", public_mention="on"
    )
    approve_every_name(campaign)
    assert wall(campaign) == (["Gino"], 1)
    html = client.get(campaign.url).content.decode()
    names = html.split('class="donor-wall"')[1].split("</ul>")[0]
    assert "Gino" in names and "Pia" not in names


# --- the Agenzia Entrate data: a claimed codice fiscale is not reported until checked ----------


def gift_of(donor, cents, *, method=Donation.Method.CARD):
    """A succeeded gift of `donor` made today (as a treasurer or an earlier checkout left it)."""
    return Donation.objects.create(
        network=donor.network,
        donor=donor,
        amount_cents=cents,
        received_on=timezone.localdate(),
        method=method,
        status=Donation.Status.SUCCEEDED,
    )


def reported(network, year):
    """The Agenzia data as the accountant reads it: {codice fiscale: cents}, and the gifts held
    back "to check" as (what, donor id, count, cents)."""
    data = tax_data(network, year)
    rows = {row.codice_fiscale: row.amount_cents for row in data.rows}
    held = sorted((r.what, r.donor_id, r.count, r.amount_cents) for r in data.to_check)
    return rows, held


def test_a_strangers_public_gift_with_someones_codice_fiscale_is_held_to_check(
    campaign, give_and_pay, client, admin_user
):
    # given Maria on record with a gift of 20 euros this year
    maria = existing_donor(campaign)
    gift_of(maria, 2000)
    # when a stranger gives 50 euros online typing Maria's codice fiscale
    gift = give_and_pay(**STRANGER, codice_fiscale=MARIA["codice_fiscale"])
    stranger = gift.donor
    year = gift.received_on.year

    # then Maria's codice fiscale carries only Maria's gift; the stranger's is held to check
    assert stranger.possible_duplicate_of == maria
    assert reported(campaign.network, year) == (
        {MARIA["codice_fiscale"]: 2000},
        [("gift", stranger.pk, 1, 5000)],
    )
    (held,) = tax_data(campaign.network, year).to_check
    assert "Maria Bianchi" in str(held.reason_label)

    # and the treasurer sees it apart, with the reason, on the screen and in the files
    client.force_login(admin_user)
    network = campaign.network
    page = client.get(reverse("crm_yearly:agenzia", args=[network.pk, year])).content.decode()
    to_check = page.split('id="agenzia-to-check"')[1].split("</table>")[0]
    assert "Mallory Intrusa" in to_check and "Maria Bianchi" in to_check
    assert f"/admin/crm/donors/inspect/{stranger.pk}/" in to_check
    rows = page.split('id="agenzia-rows"')[1].split("</table>")[0]
    assert "Mallory" not in rows
    url = reverse("crm_yearly:agenzia_export", args=[network.pk, year, "to_check", "csv"])
    response = client.get(url)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    (line,) = [row for row in text.splitlines()[1:] if row]
    assert "Mallory Intrusa" in line and MARIA["codice_fiscale"] in line and "50,00" in line
    gifts_csv = reverse("crm_yearly:agenzia_export", args=[network.pk, year, "gifts", "csv"])
    assert "50,00" not in b"".join(client.get(gifts_csv).streaming_content).decode("utf-8-sig")

    # when the treasurer merges the stranger into Maria, the gift is reported under her code
    client.post(f"/admin/crm/donors/{maria.pk}/merge/", {"duplicate": stranger.pk})
    assert reported(campaign.network, year) == ({MARIA["codice_fiscale"]: 7000}, [])


def test_confirming_the_same_person_reports_the_gift_under_the_codice_fiscale(
    campaign, give_and_pay, client, admin_user
):
    # given a gift held because it came with Maria's codice fiscale and another name
    maria = existing_donor(campaign)
    gift_of(maria, 2000)
    gift = give_and_pay(**STRANGER, codice_fiscale=MARIA["codice_fiscale"])
    stranger = gift.donor
    year = gift.received_on.year
    url = f"/admin/crm/donors/{stranger.pk}/same-person/"
    client.force_login(admin_user)
    # when the treasurer follows the action by GET, nothing changes
    assert client.get(url).status_code == 405
    assert reported(campaign.network, year)[1] == [("gift", stranger.pk, 1, 5000)]

    # when they confirm (POST) it is the same person, keeping both records
    assert client.post(url).status_code == 302

    # then the flag is gone, the gifts count together, and the history says who confirmed it
    stranger.refresh_from_db()
    assert stranger.possible_duplicate_of is None and stranger.merged_into is None
    assert reported(campaign.network, year) == ({MARIA["codice_fiscale"]: 7000}, [])
    entry = log_registry.get_logs_for_instance(stranger).get(action="crm.same_person")
    assert entry.user == admin_user and entry.data["same_as"] == maria.pk


def test_not_the_same_person_is_refused_while_they_share_a_codice_fiscale(
    campaign, give_and_pay, client, admin_user
):
    # given a gift held because it came with Maria's codice fiscale and another name
    maria = existing_donor(campaign)
    gift = give_and_pay(**STRANGER, codice_fiscale=MARIA["codice_fiscale"])
    stranger = gift.donor
    year = gift.received_on.year
    client.force_login(admin_user)

    # when the treasurer says they are different people without correcting either code
    response = client.post(f"/admin/crm/donors/{stranger.pk}/not-duplicate/", follow=True)

    # then they are told to correct the codice fiscale first, and the gift stays to check
    assert response.status_code == 200
    assert "codice fiscale" in response.content.decode()
    stranger.refresh_from_db()
    assert stranger.possible_duplicate_of == maria
    assert reported(campaign.network, year)[1] == [("gift", stranger.pk, 1, 5000)]

    # when the stranger's own code is put on their record, then "not the same person" works
    # and each code carries its own person's gifts
    Donor.objects.filter(pk=stranger.pk).update(codice_fiscale="RSSNNA80A41F205O")
    client.post(f"/admin/crm/donors/{stranger.pk}/not-duplicate/")
    stranger.refresh_from_db()
    assert stranger.possible_duplicate_of is None
    assert reported(campaign.network, year) == ({"RSSNNA80A41F205O": 5000}, [])


def test_an_offline_gift_for_a_donor_the_treasurer_types_with_someones_code_is_held(
    campaign, client, admin_user
):
    # given Maria on record with a gift this year
    maria = existing_donor(campaign)
    gift_of(maria, 2000)
    client.force_login(admin_user)

    # when the treasurer records a bank transfer, creating its donor from the gift form's
    # donor chooser with Maria's codice fiscale but another name
    response = client.post(
        reverse("crm_donor_chooser:create"),
        {
            "network": campaign.network.pk,
            "first_name": "Mallory",
            "last_name": "Intrusa",
            "email": "",
            "codice_fiscale": MARIA["codice_fiscale"].lower(),
        },
    )
    assert response.status_code == 200, response.content.decode()[:500]
    stranger = Donor.objects.get(last_name="Intrusa")
    response = client.post(
        reverse("crm_donor:record_gift", args=[stranger.pk]),
        {
            "donor": stranger.pk,
            "amount": "30,00",
            "received_on": timezone.localdate().isoformat(),
            "method": Donation.Method.BANK_TRANSFER,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    # then the new donor is flagged against Maria and the transfer is held, not hers
    stranger.refresh_from_db()
    assert stranger.possible_duplicate_of == maria
    year = timezone.localdate().year
    assert reported(campaign.network, year) == (
        {MARIA["codice_fiscale"]: 2000},
        [("gift", stranger.pk, 1, 3000)],
    )


def test_a_donor_edited_to_someones_code_is_flagged_and_an_offline_gift_held(
    campaign, give_and_pay, client, admin_user
):
    # given Maria, and a stranger already flagged by an online gift, who then gives by transfer
    maria = existing_donor(campaign)
    online = give_and_pay(**STRANGER, codice_fiscale=MARIA["codice_fiscale"])
    stranger = online.donor
    client.force_login(admin_user)
    response = client.post(
        reverse("crm_donor:record_gift", args=[stranger.pk]),
        {
            "donor": stranger.pk,
            "amount": "30,00",
            "received_on": online.received_on.isoformat(),
            "method": Donation.Method.BANK_TRANSFER,
        },
    )
    assert response.status_code == 302
    # and another donor on record, whose codice fiscale the treasurer changes to Maria's
    ugo = Donor.objects.create(network=campaign.network, first_name="Ugo", last_name="Neri")
    gift_of(ugo, 1000, method=Donation.Method.BANK_TRANSFER)
    form = donor_form_data(ugo, codice_fiscale=MARIA["codice_fiscale"])
    response = client.post(reverse("crm_donor:edit", args=[ugo.pk]), form)
    assert response.status_code == 302, response.content.decode()[:3000]

    # then both are held to check, and Maria's code carries none of their money
    ugo.refresh_from_db()
    assert ugo.possible_duplicate_of == maria
    assert reported(campaign.network, online.received_on.year) == (
        {},
        sorted([("gift", stranger.pk, 2, 8000), ("gift", ugo.pk, 1, 1000)]),
    )


def donor_form_data(donor, **changes):
    """The donor's edit form as the treasurer submits it: every field as it is, plus `changes`."""
    from crm.admin.donors import DonorViewSet

    form_class = DonorViewSet("probe").get_form_class(for_update=True)
    data = {}
    for name in form_class.base_fields:
        value = changes.get(name, getattr(donor, f"{name}_id", None) or getattr(donor, name))
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data
