"""Tenant isolation: every CRM admin URL, walked as the other network's people.

The URLs come from the registered viewsets, so a new screen is covered without editing this
file; its object-level URLs are filled with network A's rows.
"""

import io
import zipfile

import pytest
from django.urls import URLPattern, URLResolver, reverse
from wagtail.admin.viewsets import viewsets as admin_viewsets

from .conftest import RELATIONS_SECRET, SECRET_EMAIL, SECRET_NAME  # noqa: F401

MODEL_OF_VIEWSET = {
    "crm_donor": "donor",
    "crm_donation": "donation",
    "crm_recurringplan": "recurringplan",
    "crm_receipt": "receipt",
    "campaigns_stripeevent": "stripeevent",
    "campaigns_payout": "payout",
    "crm_donor_chooser": "donor",
    "crm_importbatch": "importbatch",
}


def crm_urls():
    """(viewset name, url name, route with <pk>) for every registered CRM admin URL."""
    admin_viewsets.populate() if not admin_viewsets.viewsets else None
    found = []
    for viewset in admin_viewsets.viewsets:
        for item in getattr(viewset, "items", None) or [viewset]:
            if item.name not in MODEL_OF_VIEWSET:
                continue
            for pattern in item.get_urlpatterns():
                assert isinstance(pattern, URLPattern) and not isinstance(pattern, URLResolver)
                found.append((item.name, pattern.name, str(pattern.pattern)))
    return found


CRM_URLS = crm_urls()


def test_the_table_covers_every_screen():
    names = {f"{vs}:{name}" for vs, name, _route in CRM_URLS}
    for expected in (
        "crm_donor:index",
        "crm_donor:inspect",
        "crm_donor:edit",
        "crm_donor:delete",
        "crm_donor:export_json",
        "crm_donation:index",
        "crm_donation:add",
        "crm_receipt:inspect",
        "campaigns_stripeevent:inspect",
        "crm_donor_chooser:choose",
    ):
        assert expected in names
    # read-only screens stay read-only
    assert "crm_receipt:edit" not in names and "campaigns_stripeevent:edit" not in names


def url_of(viewset, name, route, pk):
    kwargs = {"pk": pk} if "<" in route else {}
    return reverse(f"{viewset}:{name}", kwargs=kwargs)


def body_text(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = b"".join(archive.read(name) for name in archive.namelist())
    return content.decode("utf-8", errors="replace")


def walk(client, rows, extra_queries=("", "?export=csv", "?export=xlsx", "?q=Zebed")):
    """Every CRM URL with A's objects, by GET (and POST for object URLs)."""
    results = []
    for viewset, name, route in CRM_URLS:
        url = url_of(viewset, name, route, rows["a"][MODEL_OF_VIEWSET[viewset]].pk)
        queries = extra_queries if "<" not in route else ("",)
        for query in queries:
            results.append((f"{viewset}:{name}", "GET", client.get(url + query)))
        if "<" in route:
            data = {"reason": "x", "duplicate": rows["a"]["donor"].pk, "first_name": "Hacked"}
            results.append((f"{viewset}:{name}", "POST", client.post(url, data)))
    for extra in (
        "/admin/",
        "/admin/crm/donations/export/summary/?format=xlsx",
        "/admin/crm/donations/export/receipts/",
    ):
        results.append((extra, "GET", client.get(extra)))
    return results


@pytest.mark.parametrize(
    "who", ["tesoreria-valle-serena", "comunicazione-valle-serena", "comunicazione-oltre-il-ponte"]
)
def test_other_network_reaches_nothing_of_network_a(client, users, rows, who):
    # given network A's rows and a person who is not A's treasurer
    client.force_login(users[who])
    # when they walk every CRM URL with A's ids, exports, search and the dashboard
    results = walk(client, rows)
    # then each answer is a refusal or holds nothing of A
    for label, method, response in results:
        assert response.status_code in (200, 302, 403, 404, 405), (label, method)
        text = body_text(response)
        assert SECRET_NAME not in text and SECRET_EMAIL not in text, (label, method)
        assert "OP-2026/00001" not in text, (label, method)
        if who != "comunicazione-oltre-il-ponte":  # A's communicators work A's relationships
            assert RELATIONS_SECRET not in text, (label, method)
    # and nothing of A was changed or merged
    donor = rows["a"]["donor"]
    donor.refresh_from_db()
    assert donor.first_name == SECRET_NAME and donor.anonymised_at is None
    assert rows["a"]["receipt"].__class__.objects.get(pk=rows["a"]["receipt"].pk).status == "issued"


def test_object_urls_of_network_a_are_404_for_b(client, users, rows):
    client.force_login(users["tesoreria-valle-serena"])
    for viewset, name, route in CRM_URLS:
        if "<" not in route:
            continue
        pk = rows["a"][MODEL_OF_VIEWSET[viewset]].pk
        response = client.get(url_of(viewset, name, route, pk))
        assert response.status_code in (403, 404), f"{viewset}:{name}"


@pytest.mark.parametrize("who", ["comunicazione-oltre-il-ponte", "comunicazione-valle-serena"])
def test_communicators_are_refused_every_crm_screen(client, users, rows, who):
    # given a communicator (of A, whose rows these are, or of B)
    client.force_login(users[who])
    # when they open every CRM URL, object URLs with A's ids, by GET and by POST
    for viewset, name, route in CRM_URLS:
        url = url_of(viewset, name, route, rows["a"][MODEL_OF_VIEWSET[viewset]].pk)
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"reason": "x", "first_name": "Hacked"})
            # then each is a refusal (a redirect to the login/dashboard, 403 or 404)
            assert response.status_code in (302, 403, 404, 405), f"{method} {viewset}:{name}"
            assert response.status_code != 405 or method == "get", f"{viewset}:{name}"
    for extra in ("/admin/crm/donations/export/summary/", "/admin/crm/donations/export/receipts/"):
        assert client.get(extra).status_code in (302, 403, 404), extra
    home = client.get("/admin/").content.decode()
    assert "CRM" not in home and SECRET_NAME not in home
    if who != "comunicazione-oltre-il-ponte":  # A's communicators work A's relationships
        assert RELATIONS_SECRET not in home
    rows["a"]["donor"].refresh_from_db()
    assert rows["a"]["donor"].first_name == SECRET_NAME


def test_the_treasurer_sees_their_own_network(client, users, rows):
    # the positive control: the same walk as A's treasurer shows A's data
    client.force_login(users["tesoreria-oltre-il-ponte"])
    donor = rows["a"]["donor"]
    assert SECRET_NAME in client.get("/admin/crm/donors/").content.decode()
    assert client.get(f"/admin/crm/donors/inspect/{donor.pk}/").status_code == 200
    assert SECRET_EMAIL in client.get(f"/admin/crm/donors/{donor.pk}/export-json/").content.decode()
    assert SECRET_NAME in body_text(client.get("/admin/crm/donations/?export=csv"))
    assert SECRET_NAME in client.get("/admin/crm/donor-chooser/?q=Zebed").content.decode()
    assert SECRET_NAME in client.get("/admin/").content.decode()
    assert "Bortolo" not in body_text(client.get("/admin/crm/donors/?export=xlsx"))
