"""Shared fixtures: a seeded home page, networks, and their people."""

import io

import pytest
from django.core.management import call_command


@pytest.fixture
def demo(db):
    """The demo content (two networks, pages, people), seeded as `make demo` does."""
    call_command("seed_demo", stdout=io.StringIO())
    from crm.models import Network

    return {network.slug: network for network in Network.objects.all()}


@pytest.fixture
def network_factory(db):
    from crm.models import Network

    def make(slug="rete-test", **overrides):
        fields = {
            "name": slug.replace("-", " ").title(),
            "legal_name": f"Associazione {slug} ETS",
            "codice_fiscale": "92012340011",
            "entity_kind": Network.EntityKind.APS,
            "street_address": "Via Verdi 1",
            "postal_code": "20121",
            "city": "Milano",
            "province": "MI",
            "signer_name": "Maria Rossi",
        }
        fields.update(overrides)
        network = Network(slug=slug, **fields)
        network.full_clean()
        network.save()
        return network

    return make


# --- Giving (campaigns): the local Stripe stand-in, shared by tests/campaigns and tests/e2e ----


@pytest.fixture(scope="session")
def standin_url():
    """The stand-in (standin/) on a background thread of this test process: one per process."""
    from standin import core
    from standin.server import run_in_thread

    core.settings.update(webhook_delay=0.01, webhook_retries=[0.2, 0.5, 1, 2], sepa_delay=0.3)
    base_url, stop = run_in_thread(port=0)
    yield base_url
    stop()


@pytest.fixture
def stripe_standin(standin_url, settings):
    """Point our Stripe calls at a freshly reset stand-in."""
    import requests

    requests.delete(f"{standin_url}/_config/data", timeout=5).raise_for_status()
    settings.STRIPE_API_BASE = standin_url
    settings.STRIPE_SECRET_KEY = "sk_test_standin"
    return standin_url


# --- end of Giving fixtures --------------------------------------------------------------------
