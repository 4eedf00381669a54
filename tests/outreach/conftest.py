"""Outreach fixtures: the admin in English (as the CRM tests read it)."""

import pytest
from django.urls import clear_url_caches
from django.utils import translation


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    clear_url_caches()
    with translation.override("en"):
        yield
    clear_url_caches()
