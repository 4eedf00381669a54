"""The Agenzia Entrate data of a year, checked against a fixture of 30 donors computed by hand:
traceable gifts per natural person's codice fiscale, refunds made in the year with the year
of the refunded gift, and what is left out and why. Then its screen and files, scoped to the
treasurer's own networks."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.gifts import record_refund
from crm.models import Donation, Donor, Refund
from crm.tax_data import deadline, tax_data
from crm.validators import validate_codice_fiscale

pytestmark = pytest.mark.django_db

Y = 2025
ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [1, 0, 5, 7, 9, 13, 15, 17, 19, 21]
        + [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22]
        + [25, 24, 23],
    )
)


def cf(i):
    """A valid personal codice fiscale, different for each `i` (the check character computed
    here with the published algorithm, not with the product's validator)."""
    body = f"VRDGPP{60 + i:02d}A{i % 28 + 1:02d}H501"
    total = sum(
        ODD[c] if n % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65)
        for n, c in enumerate(body)
    )
    return body + chr(65 + total % 26)


@pytest.fixture
def fixture(network_factory):
    network = network_factory("rete-agenzia")
    donors = {}

    def donor(key, **fields):
        values = {"network": network, "first_name": key, "last_name": "Test"}
        values.update(fields)
        donors[key] = Donor.objects.create(**values)
        return donors[key]

    def gift(who, cents, day, method="card", status=Donation.Status.SUCCEEDED):
        return Donation.objects.create(
            network=network,
            donor=donors[who],
            amount_cents=cents,
            received_on=day,
            method=method,
            status=status,
        )

    def refund(donation, cents, day):
        donation.refresh_from_db()
        record_refund(donation, cents)
        Refund.objects.filter(donation=donation).order_by("-pk").update(refunded_on=day)

    d = datetime.date
    # P01: one card gift counts; cash, a failed gift and next year's gift do not.
    donor("P01", codice_fiscale=cf(1))
    gift("P01", 5000, d(Y, 1, 10))
    gift("P01", 2000, d(Y, 1, 11), method="cash")
    gift("P01", 9999, d(Y, 1, 12), status=Donation.Status.FAILED)
    gift("P01", 7000, d(Y + 1, 1, 2))
    # P02..P19: one traceable gift each, i * 10 euros, methods cycling.
    methods = ["card", "sepa_debit", "paypal", "bank_transfer", "cheque"]
    for i in range(2, 20):
        donor(f"P{i:02d}", codice_fiscale=cf(i))
        gift(f"P{i:02d}", i * 1000, d(Y, 6, i), method=methods[i % 5])
    # P20: another record of P05's codice fiscale (typed in lower case).
    donor("P20", codice_fiscale=cf(5).lower())
    gift("P20", 2500, d(Y, 7, 1))
    # P21: cash only, and a cash refund.
    donor("P21", codice_fiscale=cf(21))
    cash = gift("P21", 3000, d(Y, 2, 1), method="cash")
    refund(cash, 1000, d(Y, 2, 10))
    # P22: no codice fiscale. P23: a codice fiscale with the wrong check character.
    donor("P22")
    gift("P22", 4000, d(Y, 3, 1))
    bad = cf(23)[:-1] + ("A" if cf(23)[-1] != "A" else "B")
    donor("P23", codice_fiscale=bad)
    gift("P23", 4500, d(Y, 3, 2))
    # O24: a company (partita IVA), with a refund. O25: an association's numeric CF.
    donor("O24", kind=Donor.Kind.ORGANISATION, organisation_name="Bruno S.r.l.",
          partita_iva="02770930994")  # fmt: skip
    company = gift("O24", 100000, d(Y, 4, 1), method="bank_transfer")
    refund(company, 20000, d(Y, 4, 20))
    donor("O25", kind=Donor.Kind.ORGANISATION, organisation_name="Circolo",
          codice_fiscale="92012340011")  # fmt: skip
    gift("O25", 50000, d(Y, 4, 2), method="bank_transfer")
    # P26: recorded as a person, but a numeric (organisation's) codice fiscale.
    donor("P26", codice_fiscale="02770930994")
    gift("P26", 1500, d(Y, 4, 3))
    # P27: a method not known to be traceable.
    donor("P27", codice_fiscale=cf(27))
    gift("P27", 2200, d(Y, 4, 4), method="other")
    # P28: a gift of the year before, refunded this year.
    donor("P28", codice_fiscale=cf(28))
    old = gift("P28", 8000, d(Y - 1, 11, 5))
    refund(old, 8000, d(Y, 2, 1))
    # P29: a gift partly refunded in the same year: the gift as made, the refund apart.
    donor("P29", codice_fiscale=cf(29))
    partly = gift("P29", 30000, d(Y, 3, 3))
    refund(partly, 10000, d(Y, 4, 4))
    # P30: a gift refunded the next year.
    donor("P30", codice_fiscale=cf(30))
    late = gift("P30", 12000, d(Y, 12, 20), method="bank_transfer")
    refund(late, 12000, d(Y + 1, 1, 15))
    assert len(donors) == 30
    return network, donors


def test_the_codici_fiscali_of_the_fixture_are_valid():
    for i in range(1, 31):
        validate_codice_fiscale(cf(i))


def test_the_data_matches_the_hand_computed_fixture(fixture):
    network, donors = fixture

    data = tax_data(network, Y)

    # one row per natural person's codice fiscale, traceable gifts only
    expected_rows = {cf(1): (1, 5000)}
    for i in range(2, 20):
        expected_rows[cf(i)] = (1, i * 1000)
    expected_rows[cf(5)] = (2, 5000 + 2500)  # P05 and P20 share it
    expected_rows[cf(29)] = (1, 30000)
    expected_rows[cf(30)] = (1, 12000)
    assert {r.codice_fiscale: (r.gifts, r.amount_cents) for r in data.rows} == expected_rows
    assert data.total_cents == 5000 + sum(i * 1000 for i in range(2, 20)) + 2500 + 42000
    assert data.total_cents == 238500

    # refunds made in the year, with the year of the refunded gift
    assert [(r.codice_fiscale, r.gift_year, r.amount_cents) for r in data.refunds] == sorted(
        [(cf(28), Y - 1, 8000), (cf(29), Y, 10000)]
    )

    # what is left out, and why
    left = {(r.what, r.donor_id, r.reason): (r.count, r.amount_cents) for r in data.left_out}
    assert left == {
        ("gift", donors["P01"].pk, "cash"): (1, 2000),
        ("gift", donors["P21"].pk, "cash"): (1, 3000),
        ("refund", donors["P21"].pk, "cash"): (1, 1000),
        ("gift", donors["P22"].pk, "no_cf"): (1, 4000),
        ("gift", donors["P23"].pk, "bad_cf"): (1, 4500),
        ("gift", donors["O24"].pk, "organisation"): (1, 100000),
        ("refund", donors["O24"].pk, "organisation"): (1, 20000),
        ("gift", donors["O25"].pk, "organisation"): (1, 50000),
        ("gift", donors["P26"].pk, "organisation"): (1, 1500),
        ("gift", donors["P27"].pk, "other_method"): (1, 2200),
    }


def test_a_refund_made_the_next_year_is_in_the_next_years_data(fixture):
    network, _donors = fixture
    data = tax_data(network, Y + 1)
    assert [(r.codice_fiscale, r.gift_year, r.amount_cents) for r in data.refunds] == [
        (cf(30), Y, 12000)
    ]
    assert {r.codice_fiscale: r.amount_cents for r in data.rows} == {cf(1): 7000}


def test_the_threshold_comes_from_the_declared_income(network_factory):
    network = network_factory("rete-soglia")
    assert tax_data(network, Y).mandatory is None
    # (saved: the network's declared income is its lead entity's, whose data tax_data reads)
    network.declared_income_cents = 22_000_000
    network.save()
    assert tax_data(network, Y).mandatory is False  # not above 220.000
    network.declared_income_cents = 22_000_001
    network.save()
    assert tax_data(network, Y).mandatory is True


def test_the_deadline_is_16_march_or_the_next_monday():
    assert deadline(2025) == datetime.date(2026, 3, 16)  # a Monday
    assert deadline(2026) == datetime.date(2027, 3, 16)  # a Tuesday
    assert deadline(2019) == datetime.date(2020, 3, 16)  # a Monday
    assert deadline(2024) == datetime.date(2025, 3, 17)  # 16 March 2025 is a Sunday


# --- The screen and the files -------------------------------------------------------------------


@pytest.fixture
def treasurer(users, demo):
    return users["tesoreria-oltre-il-ponte"], demo["oltre-il-ponte"]


def test_the_screen_shows_the_summary_and_the_threshold(client, treasurer):
    user, network = treasurer
    network.declared_income_cents = 30_000_000
    network.save()
    donor = Donor.objects.create(network=network, first_name="Ada", codice_fiscale=cf(3))
    Donation.objects.create(
        network=network, donor=donor, amount_cents=12345, received_on=datetime.date(Y, 5, 1),
        status=Donation.Status.SUCCEEDED, method="card",
    )  # fmt: skip
    Donor.objects.create(network=network, first_name="Bea")
    client.force_login(user)

    response = client.get(reverse("crm_yearly:agenzia", args=[network.pk, Y]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Mandatory" in html and "€\xa0300,000.00" in html and "€\xa0220,000.00" in html
    assert "16/03/2026" in html
    assert cf(3) in html and "€\xa0123.45" in html


def test_the_files_hold_the_data_and_neutralise_formulas(client, treasurer):
    user, network = treasurer
    donor = Donor.objects.create(network=network, first_name="=HYPERLINK(1)", codice_fiscale=cf(4))
    Donation.objects.create(
        network=network, donor=donor, amount_cents=5050, received_on=datetime.date(Y, 5, 1),
        status=Donation.Status.SUCCEEDED, method="bank_transfer",
    )  # fmt: skip
    client.force_login(user)

    response = client.get(
        reverse("crm_yearly:agenzia_export", args=[network.pk, Y, "gifts", "csv"])
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1] == [cf(4), "'=HYPERLINK(1)", "1", "50,50"]

    response = client.get(reverse("crm_yearly:agenzia_export", args=[network.pk, Y, "all", "xlsx"]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [s.title for s in book.worksheets] == ["Gifts", "Refunds", "Left out", "To check"]
    gifts = list(book["Gifts"].iter_rows(values_only=True))
    assert gifts[1][0] == cf(4) and gifts[1][1] == "'=HYPERLINK(1)"
    assert float(gifts[1][3]) == 50.50

    bad = reverse("crm_yearly:agenzia_export", args=[network.pk, Y, "nothing", "csv"])
    assert client.get(bad).status_code == 404


def test_another_networks_treasurer_gets_404(client, users, demo):
    other = demo["valle-serena"]
    client.force_login(users["tesoreria-oltre-il-ponte"])
    for url in (
        reverse("crm_yearly:agenzia", args=[other.pk, Y]),
        reverse("crm_yearly:agenzia_export", args=[other.pk, Y, "gifts", "csv"]),
        reverse("crm_yearly:agenzia_export", args=[other.pk, Y, "all", "xlsx"]),
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("method", ["paypal", "satispay"])
def test_paypal_and_satispay_gifts_are_traceable(network_factory, method):
    network = network_factory("rete-wallet")
    donor = Donor.objects.create(
        network=network, first_name="Pia", last_name="Test", codice_fiscale=cf(31)
    )
    Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=3500,
        received_on=datetime.date(Y, 5, 5),
        method=method,
        status=Donation.Status.SUCCEEDED,
    )

    data = tax_data(network, Y)

    assert [(r.codice_fiscale, r.gifts, r.amount_cents) for r in data.rows] == [(cf(31), 1, 3500)]
    assert data.left_out == []


def test_the_summary_counts_the_gifts_left_out_not_the_lines(client, treasurer):
    # given a donor without a codice fiscale who gave three times, once partly refunded
    user, network = treasurer
    donor = Donor.objects.create(network=network, first_name="Bea", last_name="Senza")
    gifts = [
        Donation.objects.create(
            network=network,
            donor=donor,
            amount_cents=1000,
            received_on=datetime.date(Y, 5, day),
            status=Donation.Status.SUCCEEDED,
            method="card",
        )  # fmt: skip
        for day in (1, 2, 3)
    ]
    record_refund(gifts[0], 400)
    Refund.objects.update(refunded_on=datetime.date(Y, 5, 10))
    client.force_login(user)

    html = client.get(reverse("crm_yearly:agenzia", args=[network.pk, Y])).content.decode()

    # then "Gifts left out" counts her three gifts (€ 30), not two lines (a gift, a refund)
    summary = html.split('id="agenzia-summary"')[1].split("</table>")[0]
    row = summary.split("Gifts left out")[1].split("</tr>")[0]
    assert "<td>3</td>" in row and "€\xa030.00" in row
