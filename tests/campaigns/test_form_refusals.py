"""The donation form refuses what its page never offers (a tampered amount, frequency or kind
of dedication) with a translated 400, each error under its own box, the tampered value never
echoed back, one message per mistake; nothing is written."""

import re
from html import unescape

import pytest

from crm.models import Donation
from tests.campaigns.test_giving import FORM, give_url


def _error_under(html, name):
    """The error text the box `name` points to (aria-describedby; a group of buttons: their
    fieldset), or None."""
    box = re.search(rf'<input[^>]*name="{name}"[^>]*>|<select[^>]*name="{name}"[^>]*>', html)
    assert box is not None, name
    if 'type="radio"' in box.group(0):
        box = re.search(rf'<fieldset[^>]*>(?:(?!</fieldset>).)*?name="{name}"', html, re.S)
    described = re.search(r'^<[^>]*aria-describedby="([^"]+)"', box.group(0))
    if described is None:
        return None
    error = re.search(rf'<p [^>]*id="{described.group(1)}"[^>]*>(.*?)</p>', html, re.S)
    return unescape(error.group(1)).strip() if error else None


@pytest.mark.parametrize(
    ("language", "field", "value", "message"),
    [
        ("it", "frequency", "weekly", "Scegli una delle frequenze proposte."),
        ("en", "frequency", "weekly", "Choose one of the frequencies offered."),
        ("it", "amount", "123456789", "Scegli uno degli importi proposti o scrivine un altro."),
        ("en", "amount", "123456789", "Choose one of the amounts offered or type another."),
        ("it", "tribute", "evil", "Scegli una delle dediche proposte."),
        ("en", "tribute", "evil", "Choose one of the dedications offered."),
    ],
)
def test_a_choice_the_page_never_offered_is_refused_under_its_box(
    client, campaign, language, field, value, message
):
    # found walking the demo: a tampered frequency got a 400 with no error under its buttons,
    # and every tampered choice read "123456789 is not one of the available choices"
    data = {**FORM, field: value}
    if field == "tribute":
        data["tribute_name"] = "Pia"
    response = client.post(give_url(campaign, language), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert _error_under(html, field) == message
    assert value not in html
    # one message for one mistake: a tampered amount is not also "choose or enter an amount"
    assert len(re.findall(r'<p class="error"', html)) == 1
    assert not Donation.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [("it", "Inserisci un indirizzo email valido."), ("en", "Enter a valid email address.")],
)
def test_a_mistyped_family_email_is_one_message(client, campaign, language, message):
    # found walking the demo: "Enter a valid email address. Enter the family's email." for an
    # address that was typed, only wrongly
    data = {
        **FORM,
        "tribute": "memory",
        "tribute_name": "Pia",
        "tribute_notify": "on",
        "tribute_notify_email": "famiglia@@example",
    }
    response = client.post(give_url(campaign, language), data)
    assert response.status_code == 400
    assert _error_under(response.content.decode(), "tribute_notify_email") == message
    assert not Donation.objects.exists()


@pytest.mark.parametrize("language", ["it", "en"])
def test_opening_the_forms_address_leads_back_to_its_page(client, campaign, language):
    # found walking the demo: after a refused form the address bar reads /give/6/; opening it
    # again (a new tab, the history, a bookmark) showed an empty page with a 405
    from django.utils import translation

    response = client.get(give_url(campaign, language))
    assert response.status_code == 302
    with translation.override(language):
        assert response["Location"] == campaign.url
    assert client.put(give_url(campaign, language)).status_code == 405
    assert (
        client.get(give_url(campaign, language).replace(str(campaign.pk), "999999")).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("it", "Assicurati che questo valore non contenga più di 20 caratteri (ne ha 30)."),
        ("en", "Ensure this value has at most 20 characters (it has 30)."),
    ],
)
def test_an_overlong_amount_is_one_message(client, campaign, language, message):
    # found walking the demo: "... at most 20 characters (it has 30). Choose or enter an
    # amount.": the donor did enter one, only too long
    data = {**FORM, "amount": "other", "other_amount": "9" * 30}
    response = client.post(give_url(campaign, language), data)
    assert response.status_code == 400
    assert _error_under(response.content.decode(), "other_amount") == message


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("it", "Scegli «In memoria di» o «In onore di»."),
        ("en", "Choose “In memory of” or “In honour of”."),
    ],
)
@pytest.mark.parametrize(
    "typed",
    [
        {"tribute_name": "Pia Verdi"},
        {"tribute_notify": "on", "tribute_notify_email": "famiglia@example.org"},
    ],
)
def test_a_dedication_without_its_kind_is_asked_for_not_dropped(
    client, campaign, language, message, typed
):
    # found walking the demo: a name and "tell the family" typed while the kind stayed on
    # "No dedication" were silently dropped: the gift went on, the family was never told
    data = {**FORM, "tribute": "", **typed}
    response = client.post(give_url(campaign, language), data)
    assert response.status_code == 400
    assert _error_under(response.content.decode(), "tribute") == message
    assert not Donation.objects.exists()


def test_no_dedication_at_all_is_fine(client, campaign, stripe_standin):
    response = client.post(give_url(campaign), {**FORM, "tribute": "", "dedication": "Grazie!"})
    assert response.status_code == 303
