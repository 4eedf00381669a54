import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from campaigns.models import CampaignPage
from crm.money import EuroField, parse_amount


def test_euro_field_reads_italian():
    f = EuroField()
    assert f.clean("5.000") == 500000
    assert f.clean("1.234,50") == 123450
    with translation.override("it"):
        assert f.widget.format_value(123450) == "1.234,50"


def test_goal_formfield_is_euros():
    ff = CampaignPage._meta.get_field("goal_cents").formfield()
    assert isinstance(ff, EuroField)
    assert ff.clean("5.000") == 500000
    assert ff.clean("") is None


@pytest.mark.parametrize(
    "typed, cents",
    [
        ("1.234,50", 123450),
        ("1234,50", 123450),
        ("1234.50", 123450),
        ("10,50", 1050),
        ("10,5", 1050),
        ("10", 1000),
        ("5.000", 500000),
        ("1.000.000", 100000000),
        ("1,000.50", 100050),
        ("1,234,567", 123456700),
        ("€ 25", 2500),
    ],
)
def test_amounts_as_people_write_them(typed, cents):
    assert parse_amount(typed) == cents
    assert EuroField().clean(typed) == cents  # the admin's amount boxes read them the same


@pytest.mark.parametrize("typed", ["10,505", "0,001", "1.234,567", "10,5050", "1,000.505"])
def test_more_than_two_decimals_is_refused_not_read_as_thousands(typed):
    """In Italian `10,505` is ten euro and 505 thousandths: no amount has them. Never read as
    € 10.505 (the donor would be told they are over the maximum, or charged it)."""
    for check in (parse_amount, EuroField().clean, CampaignPage.goal_cents.field.formfield().clean):
        with translation.override("it"):
            with pytest.raises(ValidationError) as refused:
                check(typed)
            assert refused.value.code == "decimals"
            assert "al massimo due decimali" in refused.value.messages[0]


@pytest.mark.parametrize("typed", ["21.474.836,48", "99.999.999.999", "1000000000"])
def test_every_euro_box_refuses_more_than_an_amount_is_kept(typed):
    """An amount is kept in PostgreSQL's integer (€ 21.474.836,47 at most): any euro box refuses
    more in its own words (a declared income, a pledge, a ticket's price), never a 500."""
    with translation.override("it"):
        with pytest.raises(ValidationError) as refused:
            EuroField().clean(typed)
        message = refused.value.messages[0].replace("\xa0", " ")
    assert refused.value.code == "max_value"
    assert "al massimo € 21.474.836,47" in message
    assert EuroField().clean("21.474.836,47") == 2_147_483_647
