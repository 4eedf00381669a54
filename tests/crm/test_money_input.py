from django.utils import translation

from campaigns.models import CampaignPage
from crm.money import EuroField


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
