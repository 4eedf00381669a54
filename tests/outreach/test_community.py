"""The community of practice: observers see the taking-part networks' figures side by side and
no person; no figure built from fewer than 5 donors; each network sees itself against the
median of the networks (figures worked out in comments)."""

import contextlib
import csv
import datetime
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation
from wagtail.log_actions import log

from crm.models import Donation, Donor, RecurringPlan
from outreach.community import (
    OBSERVERS,
    community_table,
    medians_for,
    network_cells,
    set_taking_part,
)
from outreach.community_views import shown
from outreach.models import Segment

YEAR = 2026
# Distinctive names: none of them may reach an observer, anywhere.
SURNAME = "Quagliarello"
EMAIL_DOMAIN = "zibaldone.example"


def names(slug, count):
    return [f"Zenobia{slug.title()}{i}" for i in range(count)]


@pytest.fixture
def community(network_factory):
    """Four networks take part (A, B, C, D), one does not (E).

    2026 donors: A 6 × € 10, B 4 × € 1.000 (fewer than 5: hidden), C 5 × € 30, D 7 × € 50,
    E 10 × € 20. 2025: A the same 6 × € 20, B 5 × € 7, C the same 5 × € 10, D 2 × € 40.
    A's 5 first donors have a monthly plan of € 10; D's 4 first too (fewer than 5: hidden).
    """
    plan_donors = {"a": 5, "d": 4}
    years = {
        "a": {YEAR: (6, 1000), YEAR - 1: (6, 2000)},
        "b": {YEAR: (4, 100000), YEAR - 1: (5, 700)},
        "c": {YEAR: (5, 3000), YEAR - 1: (5, 1000)},
        "d": {YEAR: (7, 5000), YEAR - 1: (2, 4000)},
        "e": {YEAR: (10, 2000)},
    }
    networks = {}
    for slug, gifts in years.items():
        network = network_factory(f"rete-{slug}", name=f"Rete {slug.upper()}")
        networks[slug] = network
        most = max(count for count, _cents in gifts.values())
        donors = [
            Donor.objects.create(
                network=network,
                first_name=first,
                last_name=SURNAME,
                email=f"{first.lower()}@{EMAIL_DOMAIN}",
            )
            for first in names(slug, most)
        ]
        for donor in donors[: plan_donors.get(slug, 0)]:
            RecurringPlan.objects.create(
                network=network,
                donor=donor,
                amount_cents=1000,
                interval=RecurringPlan.Interval.MONTH,
                status=RecurringPlan.Status.ACTIVE,
            )
        for year, (count, cents) in gifts.items():
            for donor in donors[:count]:
                Donation.objects.create(
                    network=network,
                    donor=donor,
                    received_on=datetime.date(year, 6, 1),
                    amount_cents=cents,
                    status=Donation.Status.SUCCEEDED,
                )
        if slug != "e":
            set_taking_part(network, True, None)
    Segment.objects.create(network=networks["a"], name="Tutti", min_total_cents=100)
    # a history entry naming a donor, as an edit in the CRM leaves (the site history's rows)
    log(Donor.objects.filter(network=networks["a"]).first(), "wagtail.edit")
    return networks


@pytest.fixture
def two_more(community, network_factory):
    """Two more networks take part, so that a network sees medians (at least 5 must show a
    figure): F 5 × € 4 and G 9 × € 80 in 2026. With A, C, D (B hidden) the median donors stay 6
    and the median amount C's € 150, as without them when 3 networks were enough."""
    for slug, count, cents in (("f", 5, 400), ("g", 9, 8000)):
        network = network_factory(f"rete-{slug}", name=f"Rete {slug.upper()}")
        for first in names(slug, count):
            donor = Donor.objects.create(network=network, first_name=first, last_name=SURNAME)
            Donation.objects.create(
                network=network,
                donor=donor,
                received_on=datetime.date(YEAR, 6, 1),
                amount_cents=cents,
                status=Donation.Status.SUCCEEDED,
            )
        set_taking_part(network, True, None)
        community[slug] = network
    return community


@pytest.fixture
def observer(django_user_model):
    user = django_user_model.objects.create_user("fondazione", password="x")
    user.groups.add(Group.objects.get(name=OBSERVERS))
    return user


def read_csv(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def assert_no_person(text):
    assert SURNAME not in text
    assert "Zenobia" not in text
    assert EMAIL_DOMAIN not in text


def screen_rows(html):
    """{(year, row heading): [cells]} of the community screen's tables."""
    rows = {}
    for block in html.split("<h2>")[1:]:
        year = int(block[:4])
        for heading, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', block, re.S):
            heading = re.sub(r"<.*?>", "", heading).strip()
            rows[(year, heading)] = [
                re.sub(r"<.*?>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", cells)
            ]
    return rows


# --- The figures ------------------------------------------------------------------------------


def test_fewer_than_five_donors_hide_every_figure_and_the_median_ignores_them(community):
    cells = network_cells(community["b"], YEAR, with_mrr=True)
    assert set(cells.values()) == {None}  # B has 4 donors in 2026
    assert network_cells(community["b"], YEAR - 1)["amount"] == 3500
    d = network_cells(community["d"], YEAR, with_mrr=True)
    assert d["donors"] == 7 and d["amount"] == 35000
    assert d["retention"] is None  # 2 donors in 2025: too few to divide by
    assert d["monthly_recurring_revenue"] is None  # 4 donors with a plan
    a = network_cells(community["a"], YEAR, with_mrr=True)
    assert a["retention"] == 1.0 and a["monthly_recurring_revenue"] == 5000

    table = community_table(YEAR)
    assert table["taking_part"] == 4 and table["not_taking_part"] == 1
    this_year, last_year = table["blocks"]
    assert [row["network"].slug for row in this_year["rows"]] == [
        "rete-a",
        "rete-b",
        "rete-c",
        "rete-d",
    ]
    # 2026, shown: A 6, C 5, D 7 donors (B's 4 hidden: with it the median would be 5.5)
    assert this_year["medians"]["donors"] == 6
    # amounts 6000, 15000, 35000 (with B's 400000 it would be 25000)
    assert this_year["medians"]["amount"] == 15000
    assert this_year["medians"]["retention"] == 1.0  # A and C; D and B hidden
    assert this_year["medians"]["monthly_recurring_revenue"] == 5000  # A only
    # 2025: A 12000, B 3500, C 5000 (D's 2 donors hidden)
    assert last_year["medians"]["amount"] == 5000
    assert "monthly_recurring_revenue" not in last_year["medians"]


def test_a_network_sees_the_median_only_with_five_networks_showing_the_figure(two_more):
    community = two_more
    medians = medians_for(community["a"], YEAR)
    assert medians["amount"] == 15000 and medians["donors"] == 6  # A, C, D, F, G (B hidden)
    assert medians["retention"] is None  # only A and C show it
    assert medians["monthly_recurring_revenue"] is None  # only A
    assert medians_for(community["e"], YEAR) is None  # does not take part
    set_taking_part(community["g"], False, None)
    # A, B, C, D, F take part but only 4 show the amount: with 4 the median is the mean of
    # two networks' figures
    assert medians_for(community["a"], YEAR)["amount"] is None
    set_taking_part(community["c"], False, None)
    assert medians_for(community["a"], YEAR) == {}  # 4 take part: too few to share a median


def test_the_medians_follow_who_takes_part_at_once(two_more):
    """The medians are kept for a while, but a network joining or leaving is seen at once."""
    community = two_more
    assert medians_for(community["a"], YEAR)["donors"] == 6  # A 6, C 5, D 7, F 5, G 9
    set_taking_part(community["e"], True, None)
    assert medians_for(community["a"], YEAR)["donors"] == 6.5  # and E's 10
    set_taking_part(community["d"], False, None)
    assert medians_for(community["a"], YEAR)["donors"] == 6  # A 6, C 5, E 10, F 5, G 9


def test_figures_read_in_italian():
    with translation.override("it"):
        assert shown(123450, "money") == "€\u00a01.234,50"
        assert shown(2 / 3, "rate") == "66,7\u00a0%"
        assert shown(5.5, "count") == "5,5"
        assert shown(12345, "count") == "12.345"
        assert shown(None, "money") == "—"


# --- The observers' screen -------------------------------------------------------------------


def turned_away(response):
    """Wagtail answers a PermissionDenied in the admin with a redirect to the dashboard."""
    return (response.status_code, response.get("Location")) in (
        (403, None),
        (302, reverse("wagtailadmin_home")),
    )


@pytest.mark.django_db
def test_the_observers_group_can_open_the_admin_and_the_community():
    group = Group.objects.get(name=OBSERVERS)
    assert {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()} == {
        "wagtailadmin.access_admin",
        "outreach.view_community",
    }


def test_the_observer_sees_taking_part_networks_hidden_cells_and_no_person(
    client, community, observer
):
    client.force_login(observer)
    response = client.get(reverse("outreach_community:index"), {"year": YEAR})
    assert response.status_code == 200
    html = response.text
    assert_no_person(html)
    assert "Rete E" not in html
    assert "1 network does not take part." in html
    assert "fewer than 5 donors" in html
    rows = screen_rows(html)
    assert set(rows[(YEAR, "Rete B")]) == {"—"}  # every figure of B's 2026
    assert "—" not in rows[(YEAR - 1, "Rete B")][:5]  # 2025: 5 donors
    assert rows[(YEAR - 1, "Rete B")][5] == "—"  # retention: no donors in 2024 to divide by
    assert rows[(YEAR, "Rete A")][:3] == ["6", "6", "€\u00a060.00"]
    assert rows[(YEAR, "Rete A")][5] == "100.0\u00a0%"  # retention
    assert rows[(YEAR, "Rete A")][-1] == "€\u00a050.00"  # monthly recurring revenue
    assert rows[(YEAR, "Rete D")][5] == "—" and rows[(YEAR, "Rete D")][-1] == "—"
    assert html.count('class="outreach-community-chart"') == 4  # this year's charts
    median = rows[(YEAR, "Median of the networks")]
    assert median[:3] == ["6", "6", "€\u00a0150.00"]

    csv_response = client.get(reverse("outreach_community:csv"), {"year": YEAR})
    assert csv_response.status_code == 200
    lines = read_csv(csv_response)
    assert_no_person(repr(lines))
    assert lines[0][:5] == ["Year", "Network", "Donors", "Gifts", "Amount"]
    by_row = {(line[0], line[1]): line[2:] for line in lines[1:]}
    assert set(by_row[(str(YEAR), "Rete B")]) == {"—"}
    assert by_row[(str(YEAR), "Rete A")][:3] == ["6", "6", "60,00"]
    assert by_row[(str(YEAR), "Median of the networks")][:3] == ["6", "6", "150,00"]
    assert by_row[(str(YEAR - 1), "Rete D")][:8] == ["—"] * 8
    assert not any(line[1] == "Rete E" for line in lines)


def test_bad_year_is_a_clear_400(client, community, observer):
    client.force_login(observer)
    for name in ("index", "csv"):
        response = client.get(reverse(f"outreach_community:{name}"), {"year": "dopodomani"})
        assert response.status_code == 400
        assert "Enter a whole number." in response.text


def _admin_urls_without_arguments():
    """Every admin URL that takes no argument, from the URL configuration."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                walk(pattern.url_patterns, f"{namespace}{inner}:" if inner else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                # one that needs arguments is reached through the links and the list below
                with contextlib.suppress(NoReverseMatch):
                    found.append(reverse(f"{namespace}{pattern.name}"))

    walk(get_resolver().url_patterns, "")
    error_test = reverse("wagtailadmin_error_test")  # Wagtail's deliberate 500
    return [
        url
        for url in set(found)
        if url.startswith("/admin/") and "logout" not in url and url != error_test
    ]


def test_an_observer_crawling_the_admin_finds_no_person(client, community, observer):
    network = community["a"]
    donor = Donor.objects.filter(network=network).first()
    gift = Donation.objects.filter(network=network).first()
    segment = Segment.objects.get(network=network)
    client.force_login(observer)
    client.raise_request_exception = False
    queue = ["/admin/", *_admin_urls_without_arguments()]
    queue += [
        reverse("crm_donor:inspect", args=[donor.pk]),
        reverse("crm_donor:edit", args=[donor.pk]),
        reverse("crm_donation:inspect", args=[gift.pk]),
        reverse("crm_donation:edit", args=[gift.pk]),
        reverse("outreach_segments:edit", args=[segment.pk]),
        reverse("outreach_segments:export", args=[segment.pk]),
        reverse("crm_donor_chooser:choose") + f"?q={SURNAME}",
        reverse("wagtailadmin_pages:search") + f"?q={SURNAME}",
        reverse("outreach_report:index") + f"?network={network.pk}&year={YEAR}",
        reverse("outreach_report:csv") + f"?network={network.pk}&year={YEAR}",
    ]
    seen, errors = set(), []
    while queue and len(seen) < 400:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 500:
            errors.append(url)
        body = (
            b"".join(response.streaming_content)
            if getattr(response, "streaming", False)
            else response.content
        ).decode("utf-8", "replace")
        assert SURNAME not in body and "Zenobia" not in body, url
        assert EMAIL_DOMAIN not in body, url
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            for link in re.findall(r'(?:href|action)="(/admin/[^"#]*)"', body):
                link = link.replace("&amp;", "&")
                if "logout" not in link and link not in seen:
                    queue.append(link)
    assert not errors
    assert reverse("outreach_community:index") in seen
    # the menu shows the observer the community, and nothing of the CRM or the outreach screens
    home = client.get("/admin/").text
    assert reverse("outreach_community:index") in home
    for name in ("crm_donor:index", "outreach_segments:index", "outreach_report:index"):
        assert reverse(name) not in home


def _people_screens():
    names = [
        "crm_donor:index",
        "crm_donation:index",
        "crm_receipt:index",
        "crm_recurringplan:index",
        "crm_donation:exports",
        "crm_donor:duplicates",
        "outreach_segments:index",
        "outreach_segments:add",
        "outreach_report:index",
        "campaigns_donor_wall",
        "outreach_messages:index",  # the messages' screen, once it exists
    ]
    urls = []
    for name in names:
        try:
            urls.append(reverse(name))
        except NoReverseMatch:
            continue
    return urls


def test_an_observer_is_turned_away_from_every_screen_of_people(client, community, observer):
    client.force_login(observer)
    for url in _people_screens():
        assert turned_away(client.get(url)), url


# --- Taking part, and a network against the median --------------------------------------------


def test_only_observers_and_superusers_open_the_community(client, community, django_user_model):
    treasurer = django_user_model.objects.create_user("tesoriere-a", password="x")
    treasurer.groups.add(community["a"].treasurers_group)
    client.force_login(treasurer)
    for name in ("index", "csv"):
        assert turned_away(client.get(reverse(f"outreach_community:{name}")))
    assert reverse("outreach_community:index") not in client.get("/admin/").text
    admin = django_user_model.objects.create_superuser("admin", password="x")
    client.force_login(admin)
    assert client.get(reverse("outreach_community:index")).status_code == 200
    # the superuser gives the permission on the groups screen
    observers = Group.objects.get(name=OBSERVERS)
    group_screen = client.get(reverse("wagtailusers_groups:edit", args=[observers.pk]))
    assert "Can see the figures of the community of practice" in group_screen.text


def test_a_treasurer_sees_others_only_through_the_median(client, two_more, django_user_model):
    community = two_more
    treasurer = django_user_model.objects.create_user("tesoriere-a", password="x")
    treasurer.groups.add(community["a"].treasurers_group)
    client.force_login(treasurer)
    # another network's report is refused, its figures never computed
    other = client.get(
        reverse("outreach_report:index"), {"network": community["d"].pk, "year": YEAR}
    )
    assert other.status_code == 400 and "350.00" not in other.text
    response = client.get(
        reverse("outreach_report:index"), {"network": community["a"].pk, "year": YEAR}
    )
    html = response.text
    assert f"Median of the networks, {YEAR}" in html
    assert "€\u00a0150.00" in html  # the median amount
    assert "Rete D" not in html and "€\u00a0350.00" not in html  # D's own amount
    assert "€\u00a04,000.00" not in html  # B's hidden amount
    assert "Rete A takes part." in html
    assert "Stop taking part" in html


def test_a_treasurer_turns_taking_part_off_and_on(client, community, django_user_model):
    treasurer = django_user_model.objects.create_user("tesoriere-e", password="x")
    treasurer.groups.add(community["e"].treasurers_group)
    client.force_login(treasurer)
    report = reverse("outreach_report:index")
    page = client.get(report, {"network": community["e"].pk, "year": YEAR}).text
    assert "Rete E does not take part." in page and "Median of the networks" not in page
    response = client.post(
        reverse("outreach_community:take_part"),
        {"network": community["e"].pk, "takes_part": "on", "year": YEAR},
    )
    assert response.status_code == 302
    assert community["e"].community_membership.takes_part
    assert community["e"].community_membership.changed_by == treasurer
    page = client.get(report, {"network": community["e"].pk, "year": YEAR}).text
    assert "Rete E takes part." in page and f"Median of the networks, {YEAR}" in page
    # another network's choice is not theirs: 404, nothing changes
    response = client.post(reverse("outreach_community:take_part"), {"network": community["a"].pk})
    assert response.status_code == 404
    assert community["a"].community_membership.takes_part
    client.post(reverse("outreach_community:take_part"), {"network": community["e"].pk})
    community["e"].community_membership.refresh_from_db()
    assert not community["e"].community_membership.takes_part


def test_a_communicator_reads_the_choice_but_cannot_change_it(client, community, django_user_model):
    communicator = django_user_model.objects.create_user("comunicatrice-a", password="x")
    communicator.groups.add(community["a"].communicators_group)
    client.force_login(communicator)
    page = client.get(
        reverse("outreach_report:index"), {"network": community["a"].pk, "year": YEAR}
    ).text
    assert "Rete A takes part." in page and "Stop taking part" not in page
    response = client.post(reverse("outreach_community:take_part"), {"network": community["a"].pk})
    assert turned_away(response)
    community["a"].community_membership.refresh_from_db()
    assert community["a"].community_membership.takes_part


def test_with_fewer_than_five_networks_a_network_sees_no_median(
    client, community, django_user_model
):
    for slug in ("b", "c"):
        set_taking_part(community[slug], False, None)
    treasurer = django_user_model.objects.create_user("tesoriere-a", password="x")
    treasurer.groups.add(community["a"].treasurers_group)
    client.force_login(treasurer)
    page = client.get(
        reverse("outreach_report:index"), {"network": community["a"].pk, "year": YEAR}
    ).text
    assert "Median of the networks" not in page
    assert "appears when at least 5 networks take part" in page
