"""A year in an export's address (`?year=`) is a claim: a year no calendar reaches (0, -5,
99999) is a 404, never a 500; a year the treasurer can ask about still downloads."""

import pytest


@pytest.mark.parametrize(
    "url", ["/admin/crm/donations/export/receipts/", "/admin/crm/payouts/year/"]
)
@pytest.mark.parametrize("year", ["99999", "0", "-5"])
def test_a_year_out_of_range_is_not_found(client, users, url, year):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    assert client.get(url, {"year": year}).status_code == 404


@pytest.mark.parametrize(
    "url", ["/admin/crm/donations/export/receipts/", "/admin/crm/payouts/year/"]
)
def test_a_year_in_range_is_served(client, users, url):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    assert client.get(url, {"year": "2026"}).status_code == 200
