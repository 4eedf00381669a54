"""Wagtail 8's strings that its Italian catalogue leaves in English and our catalogue
translates (cms/admin_words.py), found walking the admin as a communicator (5 December 2026):
the page explorer's count above the titles read "1-3 of 3 pagine"."""

import re

import pytest
from django.contrib.auth import get_user_model
from wagtail.models import Page
from wagtail.users.models import UserProfile

pytestmark = pytest.mark.django_db


def explorer_count(client, url):
    body = client.get(url).content.decode()
    return re.sub(r"\s+", " ", re.search(r"(\d+-\d+ \w+ \d+ [^<]*)", body).group(1)).strip()


@pytest.fixture
def communicator(client, demo):
    user = get_user_model().objects.get(username="comunicazione-oltre-il-ponte")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "it"
    profile.save()
    client.force_login(user)
    return user


def test_the_page_explorer_counts_in_italian(client, communicator):
    network = Page.objects.get(slug="oltre-il-ponte")
    count = explorer_count(client, f"/admin/pages/{network.pk}/")
    assert re.fullmatch(r"1-\d+ di \d+ pagine", count), count
    searched = explorer_count(client, f"/admin/pages/{network.pk}/?q=notizie")
    assert " di " in searched and " of " not in searched, searched
    assert "in " in searched, searched


@pytest.mark.parametrize("url", ["/admin/pages/search/", "/admin/pages/search/results/"])
def test_the_page_search_counts_pages_not_none(client, communicator, url):
    # Wagtail 8's page search gives its table no name for what it counts: "1-6 of 6 None"
    count = explorer_count(client, f"{url}?q=oltre")
    assert re.fullmatch(r"1-\d+ di \d+ pagin[ae]", count), count
