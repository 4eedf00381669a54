"""The Payouts list says each thing once: the arrival date in its column, the amount in its own
(the amount column used to be the payout's name, "€ 1.234,50 · 26/11/2026", repeating the
date), in Italian and in English."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.users.models import UserProfile

from campaigns.models import Payout

ARRIVED = datetime.date(2026, 11, 26)
HEADINGS = {"it": ("Data di accredito", "Importo"), "en": ("Arrival date", "Amount")}
AMOUNT = {"it": "€ 1.234,50", "en": "€ 1,234.50"}


@pytest.mark.parametrize("language", ["it", "en"])
def test_each_payout_column_says_one_thing(client, demo, language):
    network = demo["oltre-il-ponte"]
    payout = Payout.objects.create(
        network=network,
        entity=network.lead_entity,
        stripe_payout_id="po_list_once",
        amount_cents=123450,
        arrival_date=ARRIVED,
        status=Payout.Status.PAID,
    )
    treasurer = get_user_model().objects.get(username="tesoreria-oltre-il-ponte")
    profile = UserProfile.get_for_user(treasurer)
    profile.preferred_language = language
    profile.save()
    client.force_login(treasurer)
    page = client.get(reverse("campaigns_payout:index")).content.decode()
    inspect = re.escape(reverse("campaigns_payout:inspect", args=[payout.pk]))
    row = re.search(rf"<tr(?:(?!<tr).)*?{inspect}.*?</tr>", page, re.S)
    assert row, page
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    # the date once (the year is in no other cell), in its column; the amount alone
    assert sum("2026" in text for text in texts) == 1, texts
    assert AMOUNT[language] in texts, texts
    head = re.search(r"<thead>.*?</thead>", page, re.S).group(0)
    for heading in HEADINGS[language]:
        assert heading in head
