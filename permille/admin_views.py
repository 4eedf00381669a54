"""The treasurers' 5 per mille screens (CRM → 5 per mille), under /admin/crm/permille/: the
years received, a year's page (its figures by heading, the deadlines, its expenses and the form
to add one), the rendiconto PDF. Every screen asks the network permission policy
(`crm.tenancy`): a network's treasurers, their network's rows only. Bad input is a 400 that
changes nothing."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Donation
from crm.tenancy import (
    NetworkPermissionPolicy,
    network_view,
    policy_for,
    reached,
    register_network_policy,
)

from .figures import grant_figures
from .forms import ExpenseForm, GrantForm, RemoveExpenseForm
from .models import PerMilleExpense, PerMilleGrant
from .report import render_rendiconto, rendiconto_filename
from .verbs import add_expense, remove_expense, save_grant

# Treasurers reach these screens: the gifts' permissions decide (no new permission to
# provision; communicators hold none of them), the rows are their networks'.
for _model in (PerMilleGrant, PerMilleExpense):
    register_network_policy(_model, NetworkPermissionPolicy(_model, auth_model=Donation))


def _networks(request):
    return policy_for(PerMilleGrant).networks_for(request.user)


def _grant(request, pk, action="view"):
    rows = reached(request.user, PerMilleGrant, action).select_related("network")
    return get_object_or_404(rows, pk=pk)


@network_view(PerMilleGrant, "view")
def grant_index(request):
    grants = reached(request.user, PerMilleGrant, "view").select_related("network")
    grants = grants.prefetch_related("expenses").order_by("network__name", "-reference_year")
    context = {
        "title": _("5 per mille"),
        "years": [grant_figures(grant) for grant in grants[:200]],
        "may_add": policy_for(PerMilleGrant).user_has_permission(request.user, "add"),
    }
    return TemplateResponse(request, "permille/admin/index.html", context)


def _grant_form_page(request, form, title, status=200):
    context = {"title": title, "form": form}
    return TemplateResponse(request, "crm/admin/form.html", context, status=status)


@network_view(PerMilleGrant, "add")
def grant_add(request):
    form = GrantForm(request.POST or None, networks=_networks(request))
    title = _("Record the 5 per mille received")
    if request.method != "POST":
        return _grant_form_page(request, form, title)
    if form.is_valid():
        try:
            grant = save_grant(form.save(commit=False), user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Recorded."))
            return redirect("permille_grant", grant.pk)
    return _grant_form_page(request, form, title, status=400)


@network_view(PerMilleGrant, "change")
def grant_edit(request, pk):
    grant = _grant(request, pk, "change")
    form = GrantForm(request.POST or None, instance=grant, networks=_networks(request))
    title = str(grant)
    if request.method != "POST":
        return _grant_form_page(request, form, title)
    if form.is_valid():
        try:
            save_grant(form.save(commit=False), user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("permille_grant", grant.pk)
    return _grant_form_page(request, form, title, status=400)


def _grant_page(request, grant, form=None, status=200):
    grant = PerMilleGrant.objects.prefetch_related("expenses").get(pk=grant.pk)
    context = {
        "title": str(grant),
        "grant": grant,
        "figures": grant_figures(grant),
        "expenses": grant.expenses.all(),
        "form": form or ExpenseForm(),
        "may_change": policy_for(PerMilleGrant).user_has_permission(request.user, "change"),
    }
    return TemplateResponse(request, "permille/admin/grant.html", context, status=status)


@network_view(PerMilleGrant, "view")
def grant_page(request, pk):
    return _grant_page(request, _grant(request, pk))


@network_view(PerMilleGrant, "change")
@require_POST
def expense_add(request, pk):
    grant = _grant(request, pk, "change")
    form = ExpenseForm(request.POST)
    if form.is_valid():
        try:
            add_expense(grant, form.save(commit=False), user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Expense added."))
            return redirect("permille_grant", grant.pk)
    return _grant_page(request, grant, form, status=400)


@network_view(PerMilleGrant, "change")
@require_POST
def expense_remove(request, pk):
    grant = _grant(request, pk, "change")
    form = RemoveExpenseForm(request.POST)
    if not form.is_valid() or not remove_expense(
        grant, form.cleaned_data["expense"], user=request.user
    ):
        messages.error(request, _("No such expense in this year's rendiconto."))
        return _grant_page(request, grant, status=400)
    messages.success(request, _("Expense removed."))
    return redirect("permille_grant", grant.pk)


@network_view(PerMilleGrant, "view")
def rendiconto_pdf(request, pk):
    grant = _grant(request, pk)
    response = HttpResponse(render_rendiconto(grant), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{rendiconto_filename(grant)}"'
    return response


def admin_urls():
    return [
        path("crm/permille/", grant_index, name="permille_index"),
        path("crm/permille/add/", grant_add, name="permille_add"),
        path("crm/permille/<int:pk>/", grant_page, name="permille_grant"),
        path("crm/permille/<int:pk>/edit/", grant_edit, name="permille_edit"),
        path("crm/permille/<int:pk>/expenses/add/", expense_add, name="permille_expense_add"),
        path(
            "crm/permille/<int:pk>/expenses/remove/",
            expense_remove,
            name="permille_expense_remove",
        ),
        path("crm/permille/<int:pk>/rendiconto.pdf", rendiconto_pdf, name="permille_rendiconto"),
    ]
