"""Every CRM admin screen asks the one network permission policy (`crm.tenancy`).

The screens are found by resolving the admin's URLs (every URL under /admin/crm/, and the
CRM's other namespaces), never listed by hand: a new screen that does not go through
`network_view` (or a viewset whose URLs are not routed through it) fails here. Then each
screen that names a row (`pk`, `network_id`) is asked for network A's row by network B's
treasurer (a refusal) and by A's own treasurer (an answer: the test is not vacuous).
"""

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from wagtail.admin.views.bulk_action.registry import bulk_action_registry

from crm.admin.bulk_actions import ScopedBulkAction
from crm.models import (
    Donation,
    Donor,
    ImportBatch,
    IssuingEntity,
    Receipt,
    RecurringPlan,
    StatementRun,
)
from crm.tenancy import NetworkCheck, NetworkPermissionPolicy, policy_for

# Namespaces of CRM screens mounted outside /admin/crm/.
CRM_NAMESPACES = ("crm_email_templates", "crm_donor_chooser")


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace) if n) or None
            yield from _walk(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield route, name, entry.callback


def crm_screens():
    """(route, URL name, view) of every CRM admin screen, as the URL resolver routes them."""
    found = []
    for route, name, view in _walk(get_resolver().url_patterns):
        if not route.startswith("admin/"):
            continue
        namespace = (name or "").split(":")[0]
        if route.startswith("admin/crm/") or namespace in CRM_NAMESPACES:
            found.append((route, name, view))
    return found


def test_the_walk_finds_the_crm_screens():
    names = {name for _route, name, _view in crm_screens()}
    for expected in (
        "crm_donor:index",
        "crm_donor:edit",
        "crm_donor:anonymise",
        "crm_donation:issue_receipt",
        "crm_donation:export_summary",
        "crm_recurringplan:plan_cancel",
        "crm_receipt:void",
        "crm_importbatch:batch",
        "crm_yearly:agenzia_export",
        "crm_email_templates:edit",
        "crm_donor_chooser:chosen",
        "campaigns_refund",
        "campaigns_payout:report",
        "campaigns_stripeevent:apply_again",
        "banking_statements",
        "banking_statement",
        "banking_review",
        "banking_decide",
        "banking_details",
        "relations_organisation:funder_report",
        "relations_opportunity:link_gift",
        "relations_opportunity:pipeline",
        "relations_call:document",
        "relations_call:to_opportunity",
        "relations_call:calendar",
        "relations_task:edit",
        "relations_call:delete",
        "relations_organisation:delete",
        "relations_opportunity:delete",
        "relations_opportunity:unlink_gift",
        "relations_opportunity:schedule",
        "fundraising_report",
        "fundraising_document",
        "fundraising_expense_remove",
        "permille_grant",
        "permille_expense_add",
        "permille_rendiconto",
    ):
        assert expected in names, expected


def test_every_crm_screen_asks_the_network_policy():
    uncovered = [
        f"{name} ({route})"
        for route, name, view in crm_screens()
        if not isinstance(getattr(view, "network_policy", None), NetworkCheck)
    ]
    assert not uncovered, "screens not routed through crm.tenancy.network_view: " + ", ".join(
        uncovered
    )


def test_every_screen_model_has_a_network_policy():
    for _route, name, view in crm_screens():
        check = view.network_policy
        for model in (check.model, check.pk_model):
            assert isinstance(policy_for(model), NetworkPermissionPolicy), name
        # A Wagtail generic view asks the registry for its model's policy: the network one.
        model = getattr(view, "view_initkwargs", {}).get("model")
        if model is not None:
            assert isinstance(policy_for(model), NetworkPermissionPolicy), name


def test_every_bulk_action_on_crm_rows_asks_the_policy():
    seen = 0
    for model in (Donation, Donor, Receipt, RecurringPlan, ImportBatch):
        opts = model._meta
        for action in bulk_action_registry.get_bulk_actions_for_model(
            opts.app_label, opts.model_name
        ):
            seen += 1
            assert issubclass(action, ScopedBulkAction), action
            policy_model, verb = action.network_policy
            assert isinstance(policy_for(policy_model), NetworkPermissionPolicy), action
            assert verb in ("view", "add", "change", "delete", "refund"), action
    assert seen >= 5


def _kwargs(route, pk, network):
    """The URL's arguments: the row asked for, and plausible values for the rest."""
    kwargs = {}
    if "<int:pk>" in route or "<str:pk>" in route:
        kwargs["pk"] = pk
    if "network_id" in route:
        kwargs["network_id"] = network.pk
    if "entity_id" in route:
        kwargs["entity_id"] = network.lead_entity.pk
    if "<int:year>" in route:
        kwargs["year"] = datetime.date.today().year
    if "<slug:part>" in route:
        kwargs.update(part="all", export_format="xlsx")
    for key in ("kind", "language"):
        if f"<str:{key}>" in route:
            kwargs[key] = {"kind": "receipt", "language": "it"}[key]
    return kwargs


def _row_of(model, rows, run):
    if model is StatementRun:
        return run
    if model is IssuingEntity:  # A's lead entity (the run is A's)
        return run.network.lead_entity
    return rows[model._meta.model_name]


@pytest.fixture
def run_of_a(rows, demo):
    return StatementRun.objects.create(network=demo["oltre-il-ponte"], year=2025, total=0)


def test_network_b_is_refused_every_row_of_network_a(client, users, rows, demo, run_of_a):
    network_a = demo["oltre-il-ponte"]
    named = [
        (route, name, view)
        for route, name, view in crm_screens()
        if "pk>" in route or "network_id" in route or "entity_id" in route
    ]
    assert len(named) > 30
    urls = {
        name: reverse(
            name,
            kwargs=_kwargs(
                route,
                _row_of(view.network_policy.pk_model, rows["a"], run_of_a).pk
                if "pk>" in route
                else None,
                network_a,
            ),
        )
        for route, name, view in named
    }
    # B's treasurer: every screen of A's rows is a refusal, by GET and by POST (a refusal
    # before anything is done: nothing of A changes).
    client.force_login(users["tesoreria-valle-serena"])
    for route, name, _view in named:
        for method in ("get", "post"):
            status = getattr(client, method)(urls[name]).status_code
            assert status in (403, 404), f"{method} {name} ({route}): {status}"
    rows["a"]["donor"].refresh_from_db()
    assert rows["a"]["donor"].anonymised_at is None
    assert Receipt.objects.get(pk=rows["a"]["receipt"].pk).status == "issued"
    # Someone who reaches A (the superuser), by GET: the same URLs answer (a page, a file, a
    # redirect within the admin, a 405 for a POST-only action), so the refusals above are the
    # policy's, not a wrong URL's.
    client.force_login(users["admin"])
    for route, name, _view in named:
        response = client.get(urls[name])
        assert response.status_code not in (403, 404), f"{name} ({route})"
        location = response.get("Location", "")
        assert "login" not in location and "two-step" not in location, f"{name}: {location}"
