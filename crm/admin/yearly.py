"""The treasurer's year in the CRM menu: the yearly statements (preview, confirmation, a run on
the background worker with its progress, result and ZIP) and the Agenzia Entrate data
(summary, CSV and XLSX). Every view asks the network permission policy (`network_view`):
another network's network or run is a 404."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet
from wagtail.log_actions import log

from crm import statement_runs, tax_data, tax_exports
from crm.exports import export_receipts_zip
from crm.models import Donation, Donor, Receipt, StatementRun
from crm.money import YEARS, EuroField, fiscal_today, format_amount
from crm.statement_tasks import resume_run, start_run
from crm.tenancy import network_view, policy_for, reached, require


def _network(request, network_id, model):
    return get_object_or_404(policy_for(model).networks_for(request.user), pk=network_id)


def _check_year(year):
    if year not in YEARS:
        raise Http404


def _run(request, pk, action=None):
    runs = reached(request.user, StatementRun, action).select_related("network", "entity")
    return get_object_or_404(runs, pk=pk)


@network_view(Receipt, "view")
def index(request):
    """The user's networks, each with its statements and Agenzia data of recent years."""
    this_year = fiscal_today().year
    years = [this_year - 1, this_year]
    # Another year, typed in the box on the screen; anything but a plausible year is ignored.
    asked = request.GET.get("year", "").strip()
    if asked.isdecimal() and 2000 <= int(asked) <= this_year + 1 and int(asked) not in years:
        years = sorted([*years, int(asked)])
    # A network with several entities has no network-wide preview: its row says so.
    networks = (
        policy_for(Receipt).networks_for(request.user).annotate(entity_count=Count("entities"))
    )
    runs = reached(request.user, StatementRun, "view").select_related("network", "entity")[:20]
    # Each entity sends its own Agenzia data; an entity's own treasurers see theirs only.
    entities = policy_for(Donation).entities_for(request.user).select_related("network")
    return TemplateResponse(
        request,
        "crm/admin/yearly_index.html",
        {
            "title": _("Yearly statements and Agenzia Entrate data"),
            "networks": networks,
            "entities": entities,
            "years": years,
            "asked_year": asked,
            "max_year": this_year + 1,
            "runs": runs,
        },
    )


class StartRunForm(forms.Form):
    send_email = forms.BooleanField(
        label=_("Email each statement to its donor"), required=False, initial=True
    )
    confirm_early = forms.BooleanField(
        label=_("I know the year is not over and want to issue the statements now"),
        required=False,
    )

    def __init__(self, *args, year_over=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.year_over = year_over
        if year_over:
            del self.fields["confirm_early"]

    def clean(self):
        data = super().clean()
        if not self.year_over and not data.get("confirm_early"):
            raise forms.ValidationError(
                _("The year is not over: tick the confirmation to issue the statements now."),
                code="early",
            )
        return data


@network_view(Receipt, "view")
def statements(request, network_id, year):
    """The statements of a network's year (the network's own URL): its lead entity's when it
    has no other; else the treasurer chooses the entity on the Year end screen."""
    _check_year(year)
    network = _network(request, network_id, Receipt)
    if network.entities.count() > 1:
        return redirect(f"{reverse('crm_yearly:index')}?year={year}#entities")
    return _statements(request, network.lead_entity, year)


@network_view(Receipt, "view")
def entity_statements(request, entity_id, year):
    """The preview of one issuing entity's statements of a year, and the form that starts its
    run (an entity's own treasurers see their entity's; starting one asks to add receipts)."""
    _check_year(year)
    entities = policy_for(Receipt).entities_for(request.user).select_related("network")
    return _statements(request, get_object_or_404(entities, pk=entity_id), year)


def _statements(request, entity, year):
    network = entity.network
    year_over = statement_runs.year_is_over(year)
    active = statement_runs.active_run(network, year, entity)
    status = 200
    if request.method == "POST":
        require(request.user, Receipt, "add")
        # The network's treasurers issue statements (its entity's own treasurers only read).
        if not policy_for(Receipt).networks_for(request.user).filter(pk=network.pk).exists():
            raise PermissionDenied
        form = StartRunForm(request.POST, year_over=year_over)
        if active is not None:
            return redirect("crm_yearly:run", pk=active.pk)
        if form.is_valid():
            run = start_run(
                network,
                year,
                request.user,
                entity=entity,
                send_email=form.cleaned_data["send_email"],
            )
            return redirect("crm_yearly:run", pk=run.pk)
        status = 400
    else:
        form = StartRunForm(year_over=year_over)
    rows = statement_runs.preview(network, year, entity)
    limit = statement_runs.PREVIEW_ROWS
    return TemplateResponse(
        request,
        "crm/admin/yearly_statements.html",
        {
            "title": _("Yearly statements"),
            "subtitle": f"{entity.legal_name} · {year}",
            "network": network,
            "entity": entity,
            "year": year,
            "year_over": year_over,
            "form": form,
            "active": active,
            "preview": rows,
            "eligible": rows.eligible[:limit],
            "left_out": rows.left_out[:limit],
            "limit": limit,
            "eligible_total": format_amount(sum(r.amount_cents for r in rows.eligible)),
            "donors_readable": policy_for(Donor).user_has_permission(request.user, "view"),
            "runs": reached(request.user, StatementRun, "view").filter(
                Q(entity=entity) | Q(entity__isnull=True), network=network, year=year
            ),
        },
        status=status,
    )


def _status(run):
    found = statement_runs.results(run)
    return {
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "total": run.total,
        "done": run.done,
        "stale": statement_runs.is_stale(run),
        "error": run.error,
        **found,
    }


@network_view(StatementRun, "view")
def run_detail(request, pk):
    run = _run(request, pk)
    return TemplateResponse(
        request,
        "crm/admin/yearly_run.html",
        {
            "title": _("Yearly statements %(year)s") % {"year": run.year},
            "run": run,
            "run_for": f"{run.network.name} · {run.entity.legal_name}"
            if run.entity
            else run.network.name,
            "state": _status(run),
            "status_url": reverse("crm_yearly:run_status", args=[run.pk]),
        },
    )


@network_view(StatementRun, "view")
def run_status(request, pk):
    return JsonResponse(_status(_run(request, pk)))


@network_view(StatementRun, "add")
@require_POST
def run_resume(request, pk):
    run = _run(request, pk, "add")
    if run.finished:
        messages.error(request, _t("This run is finished: there is nothing to resume."))
    elif not statement_runs.is_stale(run):
        messages.error(request, _t("This run is still working: wait for it."))
    else:
        # Released: the task queued now claims it (its dead holder's claim is stale anyway).
        StatementRun.objects.filter(pk=run.pk).update(
            heartbeat_at=timezone.now(), claimed_by="", error=""
        )
        resume_run(run)
        messages.success(request, _t("The run was queued again; it continues where it stopped."))
    return redirect("crm_yearly:run", pk=run.pk)


@network_view(StatementRun, "view")
def run_zip(request, pk):
    run = _run(request, pk)
    series = (
        f"-{slugify(run.entity.receipt_series)}" if run.entity and run.entity.receipt_series else ""
    )
    return export_receipts_zip(
        run.receipts.all(),
        f"dichiarazioni-annuali-{run.network.slug}{series}-{run.year}-invio-{run.pk}",
    )


class IncomeForm(forms.Form):
    """The entity's yearly income, which decides whether sending the data is mandatory: the
    network's treasurer sets it here, where the question is asked."""

    income = EuroField(label=_("Yearly income in the last approved accounts (€)"), required=False)


@network_view(Donation, "view")
def agenzia(request, network_id, year):
    """The Agenzia Entrate data of a network's lead entity (the network's own URL)."""
    network = _network(request, network_id, Donation)
    return _agenzia(request, network.lead_entity, year)


@network_view(Donation, "view")
def entity_agenzia(request, entity_id, year):
    """The Agenzia Entrate data of one issuing entity of a network and a year."""
    return _agenzia(request, _entity(request, entity_id), year)


def _entity(request, entity_id):
    entities = policy_for(Donation).entities_for(request.user).select_related("network")
    return get_object_or_404(entities, pk=entity_id)


def _may_set_income(user, entity):
    """The network's treasurers set an entity's income (its own treasurers only read it)."""
    return user.has_perm("crm.change_donation") and (
        policy_for(Donation).networks_for(user).filter(pk=entity.network_id).exists()
    )


def _agenzia(request, entity, year):
    """The summary of the Agenzia Entrate data of an entity and year."""
    _check_year(year)
    network = entity.network
    income_form = None
    if _may_set_income(request.user, entity):
        income_form = IncomeForm(initial={"income": entity.declared_income_cents})
    if request.method == "POST":
        if income_form is None:
            raise PermissionDenied
        income_form = IncomeForm(request.POST)
        if income_form.is_valid():
            entity.declared_income_cents = income_form.cleaned_data["income"]
            entity.save(update_fields=["declared_income_cents"])
            log(network, "wagtail.edit", user=request.user)
            messages.success(request, _t("The yearly income is saved."))
            return redirect("crm_yearly:entity_agenzia", entity_id=entity.pk, year=year)
    data = tax_data.tax_data(network, year, entity)
    return TemplateResponse(
        request,
        "crm/admin/agenzia.html",
        {
            "title": _("Agenzia Entrate data"),
            "subtitle": f"{entity.legal_name} · {year}",
            "network": network,
            "entity": entity,
            "year": year,
            "data": data,
            "income_form": income_form,
            "threshold": format_amount(tax_data.THRESHOLD_CENTS),
            "income": (
                format_amount(entity.declared_income_cents)
                if entity.declared_income_cents is not None
                else None
            ),
            "rows": data.rows[:100],
            "donors_readable": policy_for(Donor).user_has_permission(request.user, "view"),
            "refunds": data.refunds[:100],
            "left_out": data.left_out[:200],
            "to_check": data.to_check[:200],
            "totals": {
                "reported": format_amount(data.total_cents),
                "refunded": format_amount(data.refunded_cents),
                "left_out": format_amount(data.left_out_cents),
                "to_check": format_amount(data.to_check_cents),
            },
        },
    )


def _agenzia_file(entity, year, part, export_format):
    _check_year(year)
    if export_format == "xlsx" and part == "all":
        return tax_exports.xlsx_export(tax_data.tax_data(entity.network, year, entity))
    if export_format == "csv" and part in tax_exports.PARTS:
        return tax_exports.csv_export(tax_data.tax_data(entity.network, year, entity), part)
    raise Http404


@network_view(Donation, "view")
def agenzia_export(request, network_id, year, part, export_format):
    network = _network(request, network_id, Donation)
    return _agenzia_file(network.lead_entity, year, part, export_format)


@network_view(Donation, "view")
def entity_agenzia_export(request, entity_id, year, part, export_format):
    return _agenzia_file(_entity(request, entity_id), year, part, export_format)


class YearMenuItem(MenuItem):
    def is_shown(self, request):
        return policy_for(Receipt).user_has_permission(request.user, "view")


class YearViewSet(ViewSet):
    """Mounted in the CRM menu (crm.admin.menu)."""

    menu_label = _("Year end")
    icon = "calendar"
    menu_item_class = YearMenuItem

    def get_urlpatterns(self):
        return [
            path("", index, name="index"),
            path("<int:network_id>/<int:year>/statements/", statements, name="statements"),
            path(
                "entities/<int:entity_id>/<int:year>/statements/",
                entity_statements,
                name="entity_statements",
            ),
            path("runs/<int:pk>/", run_detail, name="run"),
            path("runs/<int:pk>/status/", run_status, name="run_status"),
            path("runs/<int:pk>/resume/", run_resume, name="run_resume"),
            path("runs/<int:pk>/zip/", run_zip, name="run_zip"),
            path("<int:network_id>/<int:year>/agenzia/", agenzia, name="agenzia"),
            path(
                "<int:network_id>/<int:year>/agenzia/<slug:part>.<slug:export_format>",
                agenzia_export,
                name="agenzia_export",
            ),
            path(
                "entities/<int:entity_id>/<int:year>/agenzia/",
                entity_agenzia,
                name="entity_agenzia",
            ),
            path(
                "entities/<int:entity_id>/<int:year>/agenzia/<slug:part>.<slug:export_format>",
                entity_agenzia_export,
                name="entity_agenzia_export",
            ),
        ]
