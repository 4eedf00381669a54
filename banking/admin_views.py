"""The treasurers' banking screens (CRM → Bank transfers), under /admin/crm/bank/: statements
and their upload, a statement's lines, the review list, pledges, and each network's bank
details and CSV mappings. Every screen asks the network permission policy (`crm.tenancy`)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.donors import match_or_create_donor
from crm.models import Donation, Network
from crm.tenancy import (
    NetworkPermissionPolicy,
    network_view,
    policy_for,
    reached,
    register_network_policy,
    require,
)

from . import matching, statements
from .admin_forms import BankDetailsForm, CsvMappingForm, DecisionForm, StatementUploadForm
from .models import BankDetails, CsvMapping, Pledge, Statement, StatementLine
from .parsed import StatementRefused

# Treasurers reach these screens: the gifts' permissions decide (a statement line becomes a
# gift), the rows are scoped to the networks they reach.
for _model in (BankDetails, CsvMapping, Pledge, Statement, StatementLine):
    register_network_policy(_model, NetworkPermissionPolicy(_model, auth_model=Donation))


def _reached_networks(request):  # type: ignore[no-untyped-def]
    return policy_for(Statement).networks_for(request.user)


@network_view(Statement, "view")
def statement_index(request):  # type: ignore[no-untyped-def]
    rows = reached(request.user, Statement, "view").select_related("network", "uploaded_by")
    rows = rows.annotate(review=Count("lines", filter=Q(lines__status=StatementLine.Status.REVIEW)))
    networks = _reached_networks(request)
    context = {
        "title": _("Bank statements"),
        "statements": rows[:200],
        "networks": [
            (network, BankDetails.objects.filter(network=network).first()) for network in networks
        ],
        "to_review": reached(request.user, StatementLine, "view")
        .filter(status=StatementLine.Status.REVIEW)
        .count(),
    }
    return TemplateResponse(request, "banking/admin/statements.html", context)


@network_view(Statement, "add")
def statement_upload(request):  # type: ignore[no-untyped-def]
    networks = _reached_networks(request)
    form = StatementUploadForm(request.POST or None, request.FILES or None, networks=networks)
    context = {"title": _("Upload a bank statement"), "form": form}
    if request.method != "POST":
        return TemplateResponse(request, "banking/admin/upload.html", context)
    if not form.is_valid():
        return TemplateResponse(request, "banking/admin/upload.html", context, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > statements.max_bytes():
        form.add_error("file", _("The file is too large."))
        return TemplateResponse(request, "banking/admin/upload.html", context, status=400)
    try:
        result = statements.import_statement(
            network=form.cleaned_data["network"],
            data=upload.read(statements.max_bytes() + 1),
            filename=upload.name,
            kind=form.cleaned_data["kind"],
            mapping=form.cleaned_data.get("mapping"),
            user=request.user,
        )
    except StatementRefused as exc:
        form.add_error("file", str(exc))
        return TemplateResponse(request, "banking/admin/upload.html", context, status=400)
    if result.created:
        messages.success(
            request,
            _("Statement read: %(count)s new lines.") % {"count": result.statement.lines_added},
        )
    else:
        messages.warning(request, _("This statement was uploaded before: nothing was added."))
    return redirect("banking_statement", pk=result.statement.pk)


@network_view(Statement, "view", pk=Statement)
def statement_detail(request, pk):  # type: ignore[no-untyped-def]
    statement = get_object_or_404(reached(request.user, Statement, "view"), pk=pk)
    lines = statement.lines.select_related("donation__donor", "pledge", "payout")
    context = {"title": str(statement), "statement": statement, "lines": lines}
    return TemplateResponse(request, "banking/admin/statement.html", context)


@network_view(StatementLine, "view")
def review_list(request):  # type: ignore[no-untyped-def]
    lines = (
        reached(request.user, StatementLine, "view")
        .filter(status=StatementLine.Status.REVIEW)
        .select_related("network", "pledge", "proposed_donor", "statement")
    )
    rows = [(line, DecisionForm(line=line, prefix=f"l{line.pk}")) for line in lines[:100]]
    context = {"title": _("Bank credits to review"), "rows": rows}
    return TemplateResponse(request, "banking/admin/review.html", context)


@network_view(StatementLine, "change", pk=StatementLine)
@require_POST
def decide(request, pk):  # type: ignore[no-untyped-def]
    line = get_object_or_404(reached(request.user, StatementLine, "change"), pk=pk)
    form = DecisionForm(request.POST, line=line, prefix=f"l{line.pk}")
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, errors)
        return redirect("banking_review")
    data = form.cleaned_data
    try:
        if data["action"] == "ignore":
            matching.ignore_line(line, reason=data["reason"], user=request.user)
            messages.success(request, _("The credit is ignored."))
            return redirect("banking_review")
        pledge = line.pledge if data["action"] == "pledge" else None
        if pledge is not None:
            donor = match_or_create_donor(line.network, pledge.donor_details)
        elif data["action"] == "existing":
            donor = data["donor"]
        else:
            donor = match_or_create_donor(
                line.network,
                {
                    "first_name": data["first_name"],
                    "last_name": data["last_name"],
                    "email": data["email"],
                },
            )
        wants = True if data["wants_receipt"] else None if pledge else False
        gift = matching.record_line_gift(
            line, donor=donor, pledge=pledge, wants_receipt=wants, user=request.user
        )
    except matching.LineRefused as exc:
        messages.error(request, str(exc))
        return redirect("banking_review")
    except ValidationError as exc:  # the gift as the bank wrote it cannot be recorded
        messages.error(request, " ".join(exc.messages))
        return redirect("banking_review")
    messages.success(request, _("Gift recorded for %(donor)s.") % {"donor": gift.donor})
    return redirect("banking_review")


@network_view(Pledge, "view")
def pledge_index(request):  # type: ignore[no-untyped-def]
    pledges = reached(request.user, Pledge, "view").select_related("network", "donation")
    context = {"title": _("Bank transfer pledges"), "pledges": pledges[:300]}
    return TemplateResponse(request, "banking/admin/pledges.html", context)


@network_view(BankDetails, "change")
def bank_details(request, network_id):  # type: ignore[no-untyped-def]
    network = get_object_or_404(Network, pk=network_id)
    instance = BankDetails.objects.filter(network=network).first() or BankDetails(network=network)
    form = BankDetailsForm(request.POST or None, instance=instance)
    mapping_form = CsvMappingForm(None, prefix="csv")
    context = {
        "title": _("Bank details of %(network)s") % {"network": network.name},
        "form": form,
        "network": network,
        "mappings": CsvMapping.objects.filter(network=network),
        "mapping_form": mapping_form,
    }
    if request.method == "POST":
        if not form.is_valid():
            return TemplateResponse(request, "banking/admin/details.html", context, status=400)
        form.save()
        messages.success(request, _("Bank details saved."))
        return redirect("banking_details", network_id=network.pk)
    return TemplateResponse(request, "banking/admin/details.html", context)


@network_view(CsvMapping, "change")
@require_POST
def add_mapping(request, network_id):  # type: ignore[no-untyped-def]
    require(request.user, CsvMapping, "add")
    network = get_object_or_404(Network, pk=network_id)
    form = CsvMappingForm(request.POST, prefix="csv", instance=CsvMapping(network=network))
    if form.is_valid():
        if CsvMapping.objects.filter(network=network, bank=form.cleaned_data["bank"]).exists():
            messages.error(request, _("This bank has a mapping already."))
        else:
            form.save()
            messages.success(request, _("CSV mapping saved."))
    else:
        # each error under the label the treasurer read, never the field's code
        labels = {name: field.label for name, field in form.fields.items()}
        errors = "; ".join(
            f"{labels[k]}: {' '.join(v)}" if k in labels else " ".join(v)
            for k, v in form.errors.items()
        )
        messages.error(request, errors)
    return redirect(reverse("banking_details", kwargs={"network_id": network.pk}))


def admin_urls() -> list:
    return [
        path("crm/bank/", statement_index, name="banking_statements"),
        path("crm/bank/upload/", statement_upload, name="banking_upload"),
        path("crm/bank/statements/<int:pk>/", statement_detail, name="banking_statement"),
        path("crm/bank/review/", review_list, name="banking_review"),
        path("crm/bank/review/<int:pk>/", decide, name="banking_decide"),
        path("crm/bank/pledges/", pledge_index, name="banking_pledges"),
        path("crm/bank/details/<int:network_id>/", bank_details, name="banking_details"),
        path("crm/bank/details/<int:network_id>/csv/", add_mapping, name="banking_add_mapping"),
    ]
