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
