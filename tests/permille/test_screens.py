"""The treasurers' 5 per mille screens, the rendiconto PDF and the public page: the same figures
to the cent everywhere; bad input refused with a translated 400 that changes nothing; another
network's treasurer refused on every URL; B's public page never shows A's figures."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation
from wagtail.users.models import UserProfile

from crm.money import fiscal_today
from permille.models import PerMilleExpense, PerMilleGrant, PerMillePage
from tests.entities import partner_entity
from tests.pdfs import pdf_text

from .conftest import A_NOTE

pytestmark = pytest.mark.django_db


def _flat(text):
    """Text with the PDF's and HTML's spaces (non-breaking, layout) made plain."""
    return " ".join(text.replace("\u00a0", " ").split())


def grant_urls(grant):
    pk = grant.pk
    return {
        "page": ("get", reverse("permille_grant", args=[pk])),
        "edit": ("get", reverse("permille_edit", args=[pk])),
        "edit_post": ("post", reverse("permille_edit", args=[pk])),
        "pdf": ("get", reverse("permille_rendiconto", args=[pk])),
        "expense_add": ("post", reverse("permille_expense_add", args=[pk])),
        "expense_remove": ("post", reverse("permille_expense_remove", args=[pk])),
    }


def test_a_treasurer_records_a_year_and_its_expenses_in_euros(client, users, demo):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    network = demo["oltre-il-ponte"]
    # When the treasurer records 12.345,67 euro received for 2023, 5.000 of it set aside
    response = client.post(
        reverse("permille_add"),
        {
            "network": network.pk,
            "reference_year": "2023",
            "amount_cents": "12.345,67",
            "received_on": "2025-10-15",
            "choices_count": "321",
            "set_aside_cents": "5.000",
        },
    )
    grant = PerMilleGrant.objects.get(network=network)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (grant.amount_cents, grant.set_aside_cents) == (1_234_567, 500_000)
    # And adds an expense of 1.234,50 euro for staff
    response = client.post(
        reverse("permille_expense_add", args=[grant.pk]),
        {
            "category": "human_resources",
            "description": "Educatrice",
            "amount_cents": "1.234,50",
            "spent_on": "2025-11-02",
        },
    )
    assert response.status_code == 302
    # Then the year's page shows the amounts as people write them, and the deadline
    page = _flat(client.get(reverse("permille_grant", args=[grant.pk])).content.decode())
    assert "€ 12,345.67" in page  # English admin: English grouping
    assert "€ 1,234.50" in page
    assert "€ 6,234.50" in page  # accounted for: 1.234,50 + 5.000 set aside
    assert "€ 6,111.17" in page  # not yet accounted for
    assert "15/10/2026" in page  # one year after the day received
    assert 'data-obligation="none"' in page  # below 20.000 euro


def test_figures_sum_to_the_cent_on_screen_in_the_pdf_and_on_the_public_page(
    client, users, grants, demo
):
    grant = grants["a"]
    # Mod. A: 10.000,01 + 123,45 + 0,99 + 3.000,00 spent, 5.000,00 set aside = 18.124,45;
    # Mod. B: 1.200,50 of the 5.000,00 set aside used.
    expected = [
        "€ 23.456,78",  # received
        "€ 10.000,01",  # 1. human resources
        "€ 123,45",  # 2. running costs
        "€ 0,99",  # 3. goods and services
        "€ 3.000,00",  # 4. grants
        "€ 5.000,00",  # 6. set aside
        "€ 18.124,45",  # total accounted for
        "€ 5.332,33",  # not yet accounted for
        "€ 1.200,50",  # used from the amount set aside
        "€ 3.799,50",  # still set aside
    ]
    treasurer = users["tesoreria-oltre-il-ponte"]
    UserProfile.get_for_user(treasurer)
    UserProfile.objects.filter(user=treasurer).update(preferred_language="it")
    client.force_login(treasurer)
    with translation.override("it"):
        screen = _flat(client.get(f"/admin/crm/permille/{grant.pk}/").content.decode())
        pdf = client.get(f"/admin/crm/permille/{grant.pk}/rendiconto.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = _flat(pdf_text(pdf.content))
    for amount in expected:
        assert amount in screen, amount
        assert amount in text, amount
    # The PDF follows the model: the recipient, the headings, the deadlines, the report
    assert "Cooperativa Sociale La Lanterna Onlus" in text
    assert "15/10/2026" in text and "14/11/2026" in text and "14/12/2026" in text
    assert A_NOTE in text
    assert "Educatrice" in text  # the expense lines (a cell may wrap)
    # The public page a communicator adds under the network's page shows the same figures
    network_page = demo["oltre-il-ponte"].page
    assert PerMillePage.can_create_at(network_page)  # a page type allowed under the network's
    public = network_page.add_child(instance=PerMillePage(title="5 per mille", slug="5x1000"))
    client.logout()
    with translation.override("it"):
        body = _flat(client.get(public.url).content.decode())
    for amount in expected:
        assert amount in body, amount
    assert "2023" in body


def test_the_public_page_shows_only_published_years_of_its_own_network(client, grants, demo):
    # Given network B's public page, and A's year published on A's side
    page_b = demo["valle-serena"].page.add_child(
        instance=PerMillePage(title="Il nostro 5 per mille", slug="5x1000")
    )
    with translation.override("it"):
        body = _flat(client.get(page_b.url).content.decode())
    # Then B's figures show, never A's
    assert "€ 8.123,40" in body and "Valle note" in body
    for secret in ("€ 23.456,78", "€ 10.000,01", A_NOTE, "Educatrice doposcuola"):
        assert secret not in body
    # And a year not ticked for publication is not shown on its own network's page either
    PerMilleGrant.objects.filter(pk=grants["b"].pk).update(published=False)
    with translation.override("it"):
        body = _flat(client.get(page_b.url).content.decode())
    assert "€ 8.123,40" not in body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_cents", "-5"),
        ("amount_cents", "0"),
        ("amount_cents", "abc"),
        ("amount_cents", "1e9"),
        ("reference_year", "2005"),
        ("reference_year", "2999"),
        ("received_on", "2019-05-01"),  # before the reference year 2023
        ("set_aside_cents", "1.000.000,00"),  # more set aside than received
    ],
)
def test_bad_grant_input_is_a_400_that_changes_nothing(client, users, demo, field, value):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    data = {
        "network": demo["oltre-il-ponte"].pk,
        "reference_year": "2023",
        "amount_cents": "1.000,00",
        "received_on": "2025-10-15",
        field: value,
    }
    response = client.post(reverse("permille_add"), data)
    assert response.status_code == 400
    assert not PerMilleGrant.objects.exists()


def test_spending_more_than_received_is_refused_in_italian_and_changes_nothing(
    client, users, grants
):
    grant = grants["a"]  # 5.332,33 not yet accounted for
    treasurer = users["tesoreria-oltre-il-ponte"]
    UserProfile.get_for_user(treasurer)
    UserProfile.objects.filter(user=treasurer).update(preferred_language="it")
    client.force_login(treasurer)
    before = list(PerMilleExpense.objects.values_list("pk", "amount_cents"))
    url = reverse("permille_expense_add", args=[grant.pk])
    with translation.override("it"):
        response = client.post(
            url,
            {
                "category": "other",
                "description": "Troppo",
                "amount_cents": "5.332,34",
                "spent_on": "2025-11-01",
            },
        )
    assert response.status_code == 400
    assert "superano" in response.content.decode()
    # Using more of the amount set aside than was set aside: refused too
    response = client.post(
        url,
        {
            "category": "other",
            "description": "Dal fondo",
            "amount_cents": "3.799,51",
            "spent_on": "2025-11-01",
            "from_set_aside": "on",
        },
    )
    assert response.status_code == 400
    # Lowering the amount received below what is accounted for: refused
    edit = reverse("permille_edit", args=[grant.pk])
    response = client.post(
        edit,
        {"reference_year": "2023", "amount_cents": "100,00", "received_on": "2025-10-15"},
    )
    assert response.status_code == 400
    assert list(PerMilleExpense.objects.values_list("pk", "amount_cents")) == before
    grant.refresh_from_db()
    assert grant.amount_cents == 2_345_678
    # And the cent left fits exactly
    response = client.post(
        url,
        {
            "category": "other",
            "description": "Giusto",
            "amount_cents": "5.332,33",
            "spent_on": "2025-11-01",
        },
    )
    assert response.status_code == 302


def test_an_expense_in_the_future_or_of_another_grant_is_refused(client, users, grants):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    grant = grants["a"]
    tomorrow = fiscal_today() + datetime.timedelta(days=1)
    response = client.post(
        reverse("permille_expense_add", args=[grant.pk]),
        {"category": "other", "description": "x", "amount_cents": "1", "spent_on": tomorrow},
    )
    assert response.status_code == 400
    # Removing B's expense through A's year: nothing removed
    b_expense = grants["b"].expenses.get()
    response = client.post(
        reverse("permille_expense_remove", args=[grant.pk]), {"expense": b_expense.pk}
    )
    assert response.status_code == 400
    assert PerMilleExpense.objects.filter(pk=b_expense.pk).exists()


def test_another_networks_treasurer_is_refused_every_url(client, users, grants):
    a_count = PerMilleExpense.objects.filter(grant=grants["a"]).count()
    client.force_login(users["tesoreria-valle-serena"])
    for name, (method, url) in grant_urls(grants["a"]).items():
        status = getattr(client, method)(url, {"expense": 1}).status_code
        assert status in (403, 404), f"{name}: {status}"
    # B's list shows B's year, never A's
    body = _flat(client.get(reverse("permille_index")).content.decode())
    assert "€ 8,123.40" in body and "€ 23,456.78" not in body
    assert PerMilleExpense.objects.filter(grant=grants["a"]).count() == a_count
    # A's communicator reaches no 5 per mille screen (treasurers only)
    # (Wagtail turns the policy's 403 into a redirect to the dashboard with a message.)
    client.force_login(users["comunicazione-oltre-il-ponte"])
    for url in (reverse("permille_index"), grant_urls(grants["a"])["page"][1]):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert response.get("Location", "/admin/") == "/admin/"
    # A's own treasurer reaches them all (the refusals above are the policy's)
    client.force_login(users["tesoreria-oltre-il-ponte"])
    for name in ("page", "edit", "pdf"):
        assert client.get(grant_urls(grants["a"])[name][1]).status_code == 200, name


def test_each_entity_of_a_network_records_its_own_year_and_its_rendiconto_names_it(
    client, users, demo
):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    network, other = demo["oltre-il-ponte"], demo["valle-serena"]
    partner = partner_entity(network)
    year = {"reference_year": "2023", "amount_cents": "1.000", "received_on": "2025-10-15"}
    # Given the lead entity's 2023 (no entity named: the lead's)
    assert client.post(reverse("permille_add"), {"network": network.pk, **year}).status_code == 302
    # When the partner records its own 2023 (the State paid it on its own codice fiscale)
    answer = client.post(
        reverse("permille_add"), {"network": network.pk, "entity": partner.pk, **year}
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    grants = PerMilleGrant.objects.filter(network=network)
    assert {g.entity for g in grants} == {network.lead_entity, partner}
    # Then the partner's rendiconto names the partner, not the lead entity
    pdf = _flat(
        pdf_text(
            client.get(reverse("permille_rendiconto", args=[grants.get(entity=partner).pk])).content
        )
    )
    assert "Cooperativa sociale Il Ponte" in pdf and "01234560157" in pdf
    assert network.lead_entity.codice_fiscale not in pdf
    # And a second 2023 for the partner, or another network's entity, is refused: nothing added
    for entity in (partner, other.lead_entity):
        refused = client.post(
            reverse("permille_add"), {"network": network.pk, "entity": entity.pk, **year}
        )
        assert refused.status_code == 400
    assert PerMilleGrant.objects.filter(network=network).count() == 2


def test_site_history_shows_a_treasurer_their_own_networks_5_per_mille_only(client, users, grants):
    # given each network's year and an expense, logged as the screens log them
    from django.contrib.contenttypes.models import ContentType
    from wagtail.log_actions import log

    from crm.models import TenantLogEntry

    a_expense = grants["a"].expenses.get(description="Educatrice doposcuola")
    b_expense = PerMilleExpense.objects.create(
        grant=grants["b"],
        network=grants["b"].network,
        category="other",
        amount_cents=100,
        spent_on=grants["b"].received_on,
        description="Spesa riservata Valle",
    )
    for row in (grants["a"], grants["b"], a_expense, b_expense):
        log(row, "wagtail.create", user=None)
    kinds = ContentType.objects.get_for_models(PerMilleGrant, PerMilleExpense).values()
    for who, mine, theirs in (
        ("tesoreria-oltre-il-ponte", "a", "b"),
        ("tesoreria-valle-serena", "b", "a"),
    ):
        # when a network's treasurer reads the site history
        user = users[who]
        seen = set(
            TenantLogEntry.objects.viewable_by_user(user)
            .filter(content_type__in=kinds)
            .values_list("content_type__model", "object_id")
        )
        # then they see their own network's 5 per mille entries, never the other's
        expense = {"a": a_expense, "b": b_expense}
        assert seen == {
            ("permillegrant", str(grants[mine].pk)),
            ("permilleexpense", str(expense[mine].pk)),
        }, who
        client.force_login(user)
        page = client.get("/admin/reports/site-history/").content.decode()
        assert expense[mine].description in page
        assert expense[theirs].description not in page
    # and a communicator (no gift permissions) sees none of them
    seen = TenantLogEntry.objects.viewable_by_user(users["comunicazione-oltre-il-ponte"])
    assert not seen.filter(content_type__in=kinds).exists()
