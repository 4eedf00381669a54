"""The fundraising report screen of a network (outreach.report): this year against last, the
years, breakdowns by campaign, channel and method, the months as a server-side chart, and a
CSV of every figure. A network's communicators and treasurers see it; another network is a
clear 400 on the form (its figures are never computed)."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from crm.admin.dashboard import monthly_bars_svg, monthly_rows
from crm.display import EMPTY
from crm.exports import csv_response
from crm.models import Donation
from crm.money import cents_to_decimal, format_amount

from .access import networks_for
from .community_views import median_shown, report_community, shown
from .report import fundraising_report

FIGURES = (
    ("donors", _("Donors"), "count"),
    ("gifts", _("Gifts"), "count"),
    ("amount", _("Amount"), "money"),
    ("new_donors", _("New donors"), "count"),
    ("returning_donors", _("Returning donors"), "count"),
    ("retained_donors", _("Donors of the year before who gave again"), "count"),
    ("retention", _("Retention rate"), "rate"),
    ("average_gift", _("Average gift"), "money"),
    ("median_gift", _("Median gift"), "money"),
    ("recurring_amount", _("Given through recurring plans"), "money"),
    ("recurring_share", _("Recurring share"), "rate"),
)
BREAKDOWN_TITLES = {
    "campaign": _("By campaign"),
    "channel": _("By channel"),
    "method": _("By method"),
}


class ReportForm(forms.Form):
    # Required and preset to the first network: no empty "choose" line.
    network: "forms.ModelChoiceField[Any]" = forms.ModelChoiceField(
        queryset=None, label=_("Network"), empty_label=None
    )
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2999)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        networks = networks_for(user)
        self.fields["network"].queryset = networks
        self.fields["network"].initial = networks.first()
        self.fields["year"].initial = timezone.localdate().year


def _csv_value(value, kind):
    """A figure in the CSV: euros with two decimals, rates in percent, counts as they are."""
    if value is None:
        return ""
    if kind == "money":
        return cents_to_decimal(value)
    if kind == "rate":
        return Decimal(value * 100).quantize(Decimal("0.01"))
    return value


def _labels(field, keys):
    if field == "campaign":
        titles = dict(Page.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "title"))
        return {key: titles.get(key, EMPTY) if key else _("No campaign") for key in keys}
    choices = dict(Donation._meta.get_field(field).choices)
    return {key: choices.get(key, key) for key in keys}


def _breakdown_rows(report, field):
    this_year = report["breakdowns"][field]["this_year"]
    last_year = report["breakdowns"][field]["last_year"]
    keys = sorted(set(this_year) | set(last_year), key=lambda k: (k is None, str(k)))
    labels = _labels(field, keys)
    zero = {"donors": 0, "gifts": 0, "amount": 0}
    return [
        {
            "label": labels[key],
            "this_year": this_year.get(key, zero),
            "last": last_year.get(key, zero),
        }
        for key in keys
    ]


def _parse(request):
    """The report's network and year, or the bound form with its errors."""
    data = request.GET if "network" in request.GET or "year" in request.GET else None
    form = ReportForm(data, user=request.user)
    if data is None:
        network, year = form.fields["network"].initial, form.fields["year"].initial
        form = ReportForm({"network": network.pk, "year": year}, user=request.user)
    return form, form.is_valid()


def report_page(request):
    if not networks_for(request.user).exists():
        raise PermissionDenied
    form, valid = _parse(request)
    context = {"title": _("Fundraising report"), "form": form}
    if not valid:
        return TemplateResponse(request, "outreach/report.html", context, status=400)
    report = fundraising_report(form.cleaned_data["network"], form.cleaned_data["year"])
    community = report_community(request.user, report["network"], report["year"])
    context.update(
        report=report,
        community=community,
        figures=[
            {
                "label": label,
                "this_year": shown(report["this_year"][key], kind),
                "last_year": shown(report["last_year"][key], kind),
                "median": median_shown(community, key, kind),
            }
            for key, label, kind in FIGURES
        ],
        years=[{**row, "amount_shown": format_amount(row["amount"])} for row in report["by_year"]],
        breakdowns=[
            {
                "title": BREAKDOWN_TITLES[field],
                "rows": [
                    {
                        "label": row["label"],
                        "cells": [
                            row["this_year"]["donors"],
                            format_amount(row["this_year"]["amount"]),
                            row["last"]["donors"],
                            format_amount(row["last"]["amount"]),
                        ],
                    }
                    for row in _breakdown_rows(report, field)
                ],
            }
            for field in BREAKDOWN_TITLES
        ],
        mrr=format_amount(report["monthly_recurring_revenue"]),
        chart=monthly_bars_svg(report["monthly"]),
        chart_rows=monthly_rows(report["monthly"]),
        csv_query=_query(form),
    )
    return TemplateResponse(request, "outreach/report.html", context)


def _query(form):
    return f"network={form.cleaned_data['network'].pk}&year={form.cleaned_data['year']}"


CSV_HEADINGS = (_("Section"), _("Item"), _("Year"), _("Figure"), _("Value"))


def report_csv_rows(report):
    """Every figure of the report, one per line: section, item, year, figure, value."""
    headline = _("This year against last")
    for figures in (report["last_year"], report["this_year"]):
        for key, label, kind in FIGURES:
            yield [headline, "", figures["year"], label, _csv_value(figures[key], kind)]
    for row in report["by_year"]:
        for key, label, kind in FIGURES[:3]:
            yield [_("By year"), "", row["year"], label, _csv_value(row[key], kind)]
    mrr = report["monthly_recurring_revenue"]
    yield [_("Recurring plans"), "", "", _("Monthly recurring revenue"), cents_to_decimal(mrr)]
    for field, title in BREAKDOWN_TITLES.items():
        for row in _breakdown_rows(report, field):
            for when, year in (("last", report["year"] - 1), ("this_year", report["year"])):
                for key, label, kind in FIGURES[:3]:
                    value = _csv_value(row[when][key], kind)
                    yield [title, str(row["label"]), year, label, value]
    for month, amount in enumerate(report["monthly"], start=1):
        yield [_("By month"), month, report["year"], _("Amount"), cents_to_decimal(amount)]


def report_csv(request):
    if not networks_for(request.user).exists():
        raise PermissionDenied
    form, valid = _parse(request)
    if not valid:
        return TemplateResponse(
            request,
            "outreach/report.html",
            {"title": _("Fundraising report"), "form": form},
            status=400,
        )
    network, year = form.cleaned_data["network"], form.cleaned_data["year"]
    report = fundraising_report(network, year)
    rows = list(report_csv_rows(report))  # labels stay lazy: the CSV writes them in our language
    return csv_response(CSV_HEADINGS, rows, f"report-{network.slug}-{year}")


urlpatterns = [
    path("", report_page, name="index"),
    path("csv/", report_csv, name="csv"),
]
