"""What a communicator types on a campaign page is checked where they type it: a campaign that
ends before it starts, an amount button the donation form would refuse (the page's own checks,
which Wagtail's page form runs), a line of "what each amount does" that would never show (the
form's). Each is an error under its box, nothing silently dropped."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import translation

from campaigns.models import CampaignPage


@pytest.fixture
def page(demo):
    return CampaignPage.objects.get(slug="un-doposcuola-per-ogni-quartiere")


def errors_of(page):
    with translation.override("it"), pytest.raises(ValidationError) as refused:
        page.full_clean()
    return refused.value.message_dict


def test_a_campaign_cannot_end_before_it_starts(page):
    page.starts_on, page.ends_on = datetime.date(2026, 11, 15), datetime.date(2020, 1, 1)
    assert errors_of(page)["ends_on"] == ["La fine non può precedere l'inizio."]


@pytest.mark.parametrize("amounts", ["10 99999999", "1 25"])
def test_an_amount_button_outside_the_networks_limits_is_refused(page, amounts):
    # the network takes gifts from € 5,00 to € 10.000,00 online: a button outside is a refusal
    page.suggested_amounts = amounts
    (message,) = errors_of(page)["suggested_amounts"]
    assert "€\xa05,00" in message and "€\xa010.000,00" in message


@pytest.mark.parametrize("line", ["25: un libro", "abc = niente", "25 ="])
def test_a_line_of_what_each_amount_does_that_would_not_show_is_refused(page, line):
    # the page's edit form, as Wagtail builds it for the communicator
    communicator = get_user_model().objects.get(username="comunicazione-oltre-il-ponte")
    form_class = CampaignPage.get_edit_handler().get_form_class()
    form = form_class(instance=page, for_user=communicator, parent_page=page.get_parent())
    form.cleaned_data = {"impact_lines": f"10 = una merenda\n{line}"}
    with translation.override("it"):
        with pytest.raises(ValidationError) as refused:
            form.clean_impact_lines()
        message = refused.value.messages[0]
    assert f"Questa riga non si legge: {line.strip()}" in message
    form.cleaned_data = {"impact_lines": "10 = una merenda\n\n25 € = una settimana"}
    assert form.clean_impact_lines().startswith("10 = una merenda")


def test_a_good_page_is_clean(page):
    page.starts_on, page.ends_on = datetime.date(2026, 11, 15), datetime.date(2027, 2, 3)
    page.suggested_amounts = "10 25 50 100"
    page.full_clean()
