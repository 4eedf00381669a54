"""The fundraising report against a hand-computed network (figures worked out in comments)."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from wagtail.models import Page

from crm.models import Donation, Donor, Network, RecurringPlan
from crm.tenancy import provision_network
from outreach.report import fundraising_report, year_figures

D = datetime.date
M = Donation.Method
ONLINE, OFFLINE = Donation.Channel.ONLINE, Donation.Channel.OFFLINE


@pytest.fixture
def network(network_factory):
    network = network_factory("rete-report")
    page = Page.objects.get(depth=1)
    donor = {
        name: Donor.objects.create(network=network, first_name=name, last_name="Report")
        for name in "ABCDEF"
    }

    def plan(who, cents, interval, status=RecurringPlan.Status.ACTIVE):
        return RecurringPlan.objects.create(
            network=network, donor=donor[who], amount_cents=cents, interval=interval, status=status
        )

    monthly_a = plan("A", 4000, RecurringPlan.Interval.MONTH)
    plan("B", 12000, RecurringPlan.Interval.YEAR)
    plan("C", 3000, RecurringPlan.Interval.QUARTER)
    plan("D", 5000, RecurringPlan.Interval.MONTH, RecurringPlan.Status.CANCELLED)

    def gift(who, day, cents, method=M.CARD, channel=ONLINE, **fields):
        fields.setdefault("status", Donation.Status.SUCCEEDED)
        Donation.objects.create(
            network=network,
            donor=donor[who],
            received_on=day,
            amount_cents=cents,
            method=method,
            channel=channel,
            **fields,
        )

    gift("A", D(2024, 5, 1), 1000, M.CASH, OFFLINE)
    gift("A", D(2025, 5, 1), 2000)
    gift("B", D(2025, 6, 1), 3000, campaign=page)
    gift("C", D(2025, 7, 1), 5000, M.BANK_TRANSFER, OFFLINE)
    gift("A", D(2026, 1, 15), 4000, recurring_plan=monthly_a)
    gift("A", D(2026, 2, 15), 4000, recurring_plan=monthly_a)
    gift("B", D(2026, 3, 1), 1000, M.SEPA_DEBIT, campaign=page)
    gift("D", D(2026, 12, 31), 6000)
    gift(
        "E",
        D(2026, 6, 30),
        10000,
        M.BANK_TRANSFER,
        OFFLINE,
        status=Donation.Status.PARTIALLY_REFUNDED,
        refunded_cents=5000,
    )
    gift("F", D(2026, 4, 1), 9999, status=Donation.Status.FAILED)  # never counts
    gift("F", D(2026, 4, 2), 7777, status=Donation.Status.REFUNDED, refunded_cents=7777)
    return network, page


def test_this_year_against_last(network):
    network, _ = network
    report = fundraising_report(network, 2026)
    # 2026: A 4000 + 4000 (plan), B 1000, D 6000, E 10000 - 5000 refunded = 20000 in 5 gifts;
    # donors A B D E; D and E give for the first time; of 2025's A B C, A and B came back.
    assert report["this_year"] == {
        "year": 2026,
        "donors": 4,
        "gifts": 5,
        "amount": 20000,
        "new_donors": 2,
        "returning_donors": 2,
        "retained_donors": 2,
        "retention": pytest.approx(2 / 3),
        "average_gift": 4000,
        "median_gift": 4000,  # 1000 4000 [4000] 5000 6000
        "recurring_amount": 8000,
        "recurring_share": pytest.approx(0.4),
    }
    # 2025: A 2000, B 3000, C 5000; B and C are new; 2024's only donor, A, came back.
    assert report["last_year"] == {
        "year": 2025,
        "donors": 3,
        "gifts": 3,
        "amount": 10000,
        "new_donors": 2,
        "returning_donors": 1,
        "retained_donors": 1,
        "retention": pytest.approx(1.0),
        "average_gift": 3333,
        "median_gift": 3000,
        "recurring_amount": 0,
        "recurring_share": pytest.approx(0.0),
    }


def test_years_breakdowns_months_and_recurring_revenue(network):
    network, page = network
    report = fundraising_report(network, 2026)
    assert report["by_year"] == [
        {"year": 2024, "donors": 1, "gifts": 1, "amount": 1000},
        {"year": 2025, "donors": 3, "gifts": 3, "amount": 10000},
        {"year": 2026, "donors": 4, "gifts": 5, "amount": 20000},
    ]
    # active plans: 4000 a month + 12000 a year + 3000 a quarter = 4000 + 1000 + 1000
    assert report["monthly_recurring_revenue"] == 6000
    this_year = {field: report["breakdowns"][field]["this_year"] for field in report["breakdowns"]}
    assert this_year["channel"] == {
        "online": {"donors": 3, "gifts": 4, "amount": 15000},
        "offline": {"donors": 1, "gifts": 1, "amount": 5000},
    }
    assert this_year["method"] == {
        "card": {"donors": 2, "gifts": 3, "amount": 14000},
        "sepa_debit": {"donors": 1, "gifts": 1, "amount": 1000},
        "bank_transfer": {"donors": 1, "gifts": 1, "amount": 5000},
    }
    assert this_year["campaign"] == {
        page.pk: {"donors": 1, "gifts": 1, "amount": 1000},
        None: {"donors": 3, "gifts": 4, "amount": 19000},
    }
    assert report["breakdowns"]["campaign"]["last_year"][page.pk]["amount"] == 3000
    assert report["monthly"] == [4000, 4000, 1000, 0, 0, 5000, 0, 0, 0, 0, 0, 6000]


def test_a_year_without_gifts_and_an_even_median(network):
    network, _ = network
    empty = year_figures(network, 2020)
    assert empty["donors"] == empty["gifts"] == empty["amount"] == 0
    assert empty["retention"] is empty["average_gift"] is empty["median_gift"] is None
    assert empty["recurring_share"] is None
    donor = Donor.objects.create(network=network, first_name="G", last_name="Even")
    for cents in (1000, 2000):
        Donation.objects.create(
            network=network,
            donor=donor,
            received_on=D(2019, 1, 1),
            amount_cents=cents,
            status=Donation.Status.SUCCEEDED,
        )
    assert year_figures(network, 2019)["median_gift"] == 1500
    assert year_figures(network, 2020)["retention"] == 0


# --- The screen and its CSV --------------------------------------------------------------------


def read_csv(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.fixture
def people(network, django_user_model):
    """A communicator of the report's network, and a treasurer of another one."""
    net, _ = network
    provision_network(net)
    other = Network.objects.create(
        slug="altra-rete",
        name="Altra rete",
        legal_name="Altra ETS",
        codice_fiscale="92012340011",
        entity_kind=Network.EntityKind.APS,
        street_address="Via Roma 1",
        postal_code="10100",
        city="Torino",
        signer_name="Luca Bianchi",
    )
    provision_network(other)
    communicator = django_user_model.objects.create_user("com", password="x")
    communicator.groups.add(net.communicators_group)
    stranger = django_user_model.objects.create_user("tes", password="x")
    stranger.groups.add(other.treasurers_group)
    return communicator, stranger


def test_the_communicator_reads_the_report_and_its_csv(client, network, people):
    net, page = network
    client.force_login(people[0])
    query = {"network": net.pk, "year": 2026}
    page_response = client.get(reverse("outreach_report:index"), query)
    assert page_response.status_code == 200
    text = page_response.text
    assert "2026 against 2025" in text and "<svg" in text
    assert "€\u00a0200.00" in text or "€\u00a0200,00" in text  # 2026's amount, 20000 cents
    assert "66.7\u00a0%" in text or "66,7\u00a0%" in text  # retention
    rows = read_csv(client.get(reverse("outreach_report:csv"), query))
    assert rows[0] == ["Section", "Item", "Year", "Figure", "Value"]
    figures = {(r[0], r[1], r[2], r[3]): r[4] for r in rows[1:]}
    headline = "This year against last"
    assert figures[(headline, "", "2026", "Amount")] == "200,00"
    assert figures[(headline, "", "2026", "Retention rate")] == "66,67"
    assert figures[(headline, "", "2026", "Median gift")] == "40,00"
    assert figures[(headline, "", "2025", "Average gift")] == "33,33"
    assert figures[(headline, "", "2026", "Recurring share")] == "40,00"
    assert figures[("By year", "", "2024", "Donors")] == "1"
    assert figures[("Recurring plans", "", "", "Monthly recurring revenue")] == "60,00"
    assert figures[("By channel", "Offline", "2026", "Amount")] == "50,00"
    assert figures[("By method", "Card", "2026", "Gifts")] == "3"
    assert figures[("By campaign", page.title, "2025", "Amount")] == "30,00"
    assert figures[("By campaign", "No campaign", "2026", "Donors")] == "3"
    assert figures[("By month", "12", "2026", "Amount")] == "60,00"
    # no person in the report: figures only
    assert "Report" not in "".join(text for row in rows for text in row)


def test_another_networks_treasurer_and_bad_input_get_400(client, network, people):
    net, _ = network
    client.force_login(people[1])
    for name in ("index", "csv"):
        response = client.get(reverse(f"outreach_report:{name}"), {"network": net.pk, "year": 2026})
        assert response.status_code == 400
        assert "€" not in response.text
    client.force_login(people[0])
    response = client.get(reverse("outreach_report:index"), {"network": net.pk, "year": "abc"})
    assert response.status_code == 400
    assert "Enter a whole number." in response.text
    # without a query: the user's network, this year
    assert client.get(reverse("outreach_report:index")).status_code == 200


# --- Figures computed by the database: the same as counting every gift by hand -----------------


def _gift(network, donor, day, cents, **fields):
    fields.setdefault("status", Donation.Status.SUCCEEDED)
    return Donation.objects.create(
        network=network, donor=donor, received_on=day, amount_cents=cents, **fields
    )


def test_median_of_odd_and_even_counts_net_of_refunds(network_factory):
    network = network_factory("rete-mediana")
    donor = Donor.objects.create(network=network, first_name="M", last_name="Median")
    # two gifts: the mean of the middle ones, x.5 rounded as Python rounds (to the even cent)
    _gift(network, donor, D(2030, 3, 1), 1000)
    _gift(network, donor, D(2030, 4, 1), 1001)
    assert year_figures(network, 2030)["median_gift"] == 1000  # 1000.5
    _gift(network, donor, D(2031, 3, 1), 1001)
    _gift(network, donor, D(2031, 4, 1), 1002)
    assert year_figures(network, 2031)["median_gift"] == 1002  # 1001.5
    # a partial refund moves a gift down the order by its net; a full refund leaves it out
    _gift(
        network,
        donor,
        D(2030, 5, 1),
        9000,
        status=Donation.Status.PARTIALLY_REFUNDED,
        refunded_cents=8500,
    )
    _gift(network, donor, D(2030, 6, 1), 100, status=Donation.Status.REFUNDED, refunded_cents=100)
    _gift(network, donor, D(2030, 7, 1), 50, status=Donation.Status.DISPUTED)
    figures = year_figures(network, 2030)
    assert (figures["gifts"], figures["amount"]) == (3, 2501)  # 500 1000 1001
    assert figures["median_gift"] == 1000
    assert figures["average_gift"] == 834  # 2501 / 3
    # a single gift is its own median; gifts without a donor count in amounts, not donors
    _gift(network, None, D(2032, 1, 1), 777)
    figures = year_figures(network, 2032)
    assert (figures["median_gift"], figures["gifts"], figures["donors"]) == (777, 1, 0)
    assert (figures["new_donors"], figures["retained_donors"], figures["retention"]) == (0, 0, 0)


def _by_hand(network, year):
    """The report's definitions applied to every counted gift loaded in Python: what the
    database's figures must equal."""
    import statistics

    gifts = list(
        Donation.objects.filter(network=network, status__in=Donation.COUNTED_STATUSES).values(
            "donor_id", "received_on", "amount_cents", "refunded_cents", "recurring_plan_id"
        )
    )

    def donors(y):
        return {g["donor_id"] for g in gifts if g["received_on"].year == y and g["donor_id"]}

    first = {}
    for g in sorted(gifts, key=lambda g: g["received_on"]):
        if g["donor_id"]:
            first.setdefault(g["donor_id"], g["received_on"].year)
    amounts = [
        g["amount_cents"] - g["refunded_cents"] for g in gifts if g["received_on"].year == year
    ]
    recurring = sum(
        g["amount_cents"] - g["refunded_cents"]
        for g in gifts
        if g["received_on"].year == year and g["recurring_plan_id"]
    )
    this, previous = donors(year), donors(year - 1)
    new = sum(1 for y in first.values() if y == year)
    total = sum(amounts)
    return {
        "year": year,
        "donors": len(this),
        "gifts": len(amounts),
        "amount": total,
        "new_donors": new,
        "returning_donors": len(this) - new,
        "retained_donors": len(this & previous),
        "retention": len(this & previous) / len(previous) if previous else None,
        "average_gift": round(total / len(amounts)) if amounts else None,
        "median_gift": round(statistics.median(amounts)) if amounts else None,
        "recurring_amount": recurring,
        "recurring_share": recurring / total if total else None,
    }


def test_every_figure_matches_a_count_by_hand_on_many_donors(network_factory):
    import random

    rng = random.Random(14)
    network = network_factory("rete-molti")
    donors = Donor.objects.bulk_create(
        Donor(network=network, first_name=f"N{i}", last_name="Many") for i in range(60)
    )
    plan = RecurringPlan.objects.create(network=network, donor=donors[0], amount_cents=1500)
    statuses = [Donation.Status.SUCCEEDED] * 8 + [
        Donation.Status.PARTIALLY_REFUNDED,
        Donation.Status.REFUNDED,
        Donation.Status.FAILED,
        Donation.Status.PENDING,
    ]
    gifts = []
    for _ in range(700):
        cents = rng.choice((500, 1000, 1001, 2500, 5000, 12345))
        status = rng.choice(statuses)
        refunded = {
            Donation.Status.PARTIALLY_REFUNDED: rng.randrange(1, cents),
            Donation.Status.REFUNDED: cents,
        }.get(status, 0)
        gifts.append(
            Donation(
                network=network,
                donor=rng.choice([*donors, None]),
                received_on=D(rng.choice((2022, 2023, 2024, 2025)), rng.randint(1, 12), 28)
                + datetime.timedelta(days=rng.choice((0, 3, 4))),  # across year ends
                amount_cents=cents,
                refunded_cents=refunded,
                status=status,
                recurring_plan=plan if rng.random() < 0.2 else None,
                channel=rng.choice((ONLINE, OFFLINE)),
                method=rng.choice((M.CARD, M.CASH, M.SEPA_DEBIT)),
            )
        )
    Donation.objects.bulk_create(gifts)
    report = fundraising_report(network, 2025)
    for year in (2021, 2022, 2023, 2024, 2025, 2026):
        assert year_figures(network, year) == _by_hand(network, year), year
    assert report["this_year"] == _by_hand(network, 2025)
    assert report["last_year"] == _by_hand(network, 2024)
    assert [row["year"] for row in report["by_year"]] == [2022, 2023, 2024, 2025, 2026]
    assert sum(row["gifts"] for row in report["by_year"]) == sum(
        _by_hand(network, y)["gifts"] for y in range(2022, 2027)
    )
    methods = report["breakdowns"]["method"]["this_year"]
    assert sum(row["amount"] for row in methods.values()) == report["this_year"]["amount"]
    assert sum(report["monthly"]) == report["this_year"]["amount"]


def test_the_reports_database_settings_end_with_it(network):
    """On PostgreSQL the report sorts in memory without JIT inside its own transaction; inside
    a caller's transaction the caller's settings are set back afterwards."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL settings")
    net, _ = network

    def settings():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('work_mem'), current_setting('jit'), "
                "current_setting('enable_hashagg')"
            )
            return cursor.fetchone()

    with transaction.atomic():
        before = settings()
        assert fundraising_report(net, 2026)["this_year"]["gifts"] == 5
        assert settings() == before
