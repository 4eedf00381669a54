"""Requests Django refuses before any view (a form with too many fields, a host we do not serve)
and views that refuse a person get a page in the visitor's language, never Django's bare English
"Bad Request (400)" / "403 Forbidden" (found walking the demo, 5 December 2026)."""

import pytest

pytestmark = pytest.mark.django_db

TOO_MANY_FIELDS = {f"f{i}": "x" for i in range(1100)}  # DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000


@pytest.mark.parametrize(
    "prefix, words",
    [("", "Richiesta non valida"), ("/en", "Bad request")],
)
def test_a_form_with_too_many_fields_is_a_translated_400(prefix, words):
    from django.test import Client

    # a browser's POST, whose CSRF check reads the form (the test client skips it by default)
    browser = Client(enforce_csrf_checks=True)
    browser.cookies["csrftoken"] = "a" * 32
    response = browser.post(f"{prefix}/give/1/", TOO_MANY_FIELDS)
    assert response.status_code == 400
    body = response.content.decode()
    assert words in body
    assert "Bad Request (400)" not in body


def test_a_host_we_do_not_serve_is_a_400_page_not_an_error(client):
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Richiesta non valida" in body
    assert "evil.example" not in body


@pytest.mark.parametrize(
    "language, words",
    [("it", "Non hai accesso"), ("en", "You do not have access")],
)
def test_a_refused_person_reads_a_translated_403(rf, language, words):
    # Django's handler for a PermissionDenied no view turned into its own answer
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied
    from django.utils import translation
    from django.views.defaults import permission_denied

    request = rf.get("/")
    request.user = AnonymousUser()
    with translation.override(language):
        response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    body = response.content.decode()
    assert words in body
    assert "403 Forbidden" not in body
