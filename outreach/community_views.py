"""The community of practice in the admin: the observers' screen (figures of the networks that
take part, side by side, and their median; a CSV of the same table) and the choice a network's
treasurers make to take part. Never a person: the figures come from `outreach.community`, which
hides every figure built from fewer than 5 donors."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from crm.display import EMPTY
from crm.exports import csv_response
from crm.models import Network
from crm.money import cents_to_decimal, format_amount

from .access import networks_for
from .community import (
    MIN_DONORS,
    MIN_NETWORKS,
    MRR,
    can_observe,
    community_table,
    medians_for,
    set_taking_part,
)

FEWER_THAN = _("— fewer than %(count)s donors: the figure is not shown.")


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2999)


def shown(value, kind):
    """A figure as people read it: `€ 1.234,50`, `66,7 %`, `1.234`; "—" when hidden."""
    if value is None:
        return EMPTY
    if kind == "money":
        return format_amount(value)
    if kind == "rate":
        return number_format(Decimal(value * 100).quantize(Decimal("0.1")), 1) + "\u00a0%"
    if value != int(value):  # the median of an even number of counts
        return number_format(Decimal(value).quantize(Decimal("0.1")), 1, force_grouping=True)
    return number_format(int(value), force_grouping=True)


def csv_value(value, kind):
    """A figure in the CSV: euros with two decimals, rates in percent, "—" when hidden."""
    if value is None:
        return EMPTY
    if kind == "money":
        return cents_to_decimal(value)
    if kind == "rate":
        return Decimal(value * 100).quantize(Decimal("0.01"))
    return value


CHARTED = ("amount", "average_gift", "retention", "recurring_share")


def bars_svg(label, bars, median_value, kind, width=560):
    """A horizontal bar per network (server-side SVG, as the dashboard's chart), the median as
    a dashed line; a hidden figure has no bar, only "—". The table above says the same."""
    row, left, right = 22, 170, 90
    plot = width - left - right
    top = max([value for _name, value in bars if value is not None] + [median_value or 0]) or 1
    height = row * len(bars) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" style="max-width:100%;height:auto" role="img" '
        f'aria-label="{escape(label)}" class="outreach-community-chart">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(label)}</text>',
    ]
    for i, (name, value) in enumerate(bars):
        y = 22 + i * row
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
            f"{escape(name[:28])}</text>"
        )
        w = round(plot * value / top) if value is not None else 0
        if value is not None:
            parts.append(
                f'<rect x="{left}" y="{y + 3}" width="{w}" height="{row - 8}" fill="#2e1f5e"/>'
            )
        value_text = escape(shown(value, kind))
        parts.append(f'<text x="{left + w + 4}" y="{y + 14}" font-size="11">{value_text}</text>')
    if median_value is not None:
        x = left + round(plot * median_value / top)
        median_text = escape(
            gettext("Median of the networks: %(value)s") % {"value": shown(median_value, kind)}
        )
        parts.append(
            f'<line x1="{x}" y1="20" x2="{x}" y2="{height}" stroke="#c0392b" '
            f'stroke-dasharray="4 3"><title>{median_text}</title></line>'
            f'<text x="{width}" y="14" font-size="11" fill="#c0392b" text-anchor="end">'
            f"{median_text}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def charts(block):
    """The main figures of a year as bar charts, networks side by side."""
    return [
        bars_svg(
            label,
            [(row["network"].name, row["cells"][key]) for row in block["rows"]],
            block["medians"][key],
            kind,
        )
        for key, label, kind in block["figures"]
        if key in CHARTED
    ]


def _year(request):
    """The year asked for (this year by default), or the bound form with its errors."""
    form = YearForm(request.GET if "year" in request.GET else {"year": timezone.localdate().year})
    return form, form.is_valid()


def _require_observer(request):
    if not can_observe(request.user):
        raise PermissionDenied


def community_page(request):
    _require_observer(request)
    form, valid = _year(request)
    context = {
        "title": _("Community of practice"),
        "form": form,
        "fewer_than": FEWER_THAN % {"count": MIN_DONORS},
    }
    if not valid:
        return TemplateResponse(request, "outreach/community.html", context, status=400)
    table = community_table(form.cleaned_data["year"])
    context.update(
        table=table,
        blocks=[
            {
                "year": block["year"],
                "headings": [label for _key, label, _kind in block["figures"]],
                "rows": [
                    {
                        "network": row["network"].name,
                        "cells": [
                            shown(row["cells"][key], kind) for key, _l, kind in block["figures"]
                        ],
                    }
                    for row in block["rows"]
                ],
                "medians": [
                    shown(block["medians"][key], kind) for key, _l, kind in block["figures"]
                ],
                "charts": charts(block) if block is table["blocks"][0] and block["rows"] else [],
            }
            for block in table["blocks"]
        ],
        csv_query=urlencode({"year": form.cleaned_data["year"]}),
    )
    return TemplateResponse(request, "outreach/community.html", context)


def community_csv_rows(table):
    """The screen's table, one line per network and year, then the median: same cells hidden."""
    every = table["blocks"][0]["figures"]
    for block in table["blocks"]:
        keys = {key for key, _label, _kind in block["figures"]}
        lines = [(row["network"].name, row["cells"]) for row in block["rows"]]
        lines.append((gettext("Median of the networks"), block["medians"]))
        for name, cells in lines:
            yield [block["year"], name] + [
                csv_value(cells[key], kind) if key in keys else "" for key, _label, kind in every
            ]


def community_csv(request):
    _require_observer(request)
    form, valid = _year(request)
    if not valid:
        return TemplateResponse(
            request,
            "outreach/community.html",
            {"title": _("Community of practice"), "form": form},
            status=400,
        )
    year = form.cleaned_data["year"]
    table = community_table(year)
    headings = [_("Year"), _("Network")] + [
        label for _k, label, _kind in table["blocks"][0]["figures"]
    ]
    return csv_response(headings, list(community_csv_rows(table)), f"community-{year}")


class TakePartForm(forms.Form):
    network = forms.IntegerField()
    takes_part = forms.BooleanField(required=False)
    year = forms.IntegerField(required=False, min_value=1900, max_value=2999)


@require_POST
def take_part(request):
    """A treasurer (or a superuser) turns taking part on or off for their network."""
    form = TakePartForm(request.POST)
    if not form.is_valid():
        raise Http404
    network = Network.objects.filter(pk=form.cleaned_data["network"]).first()
    if network is None or network not in networks_for(request.user):
        raise Http404
    if network not in Network.objects.for_user(request.user):  # a communicator: reads only
        raise PermissionDenied
    choice = form.cleaned_data["takes_part"]
    set_taking_part(network, choice, request.user)
    if choice:
        messages.success(
            request,
            gettext("%(network)s takes part in the community of practice.")
            % {"network": network.name},
        )
    else:
        messages.success(
            request,
            gettext("%(network)s no longer takes part in the community of practice.")
            % {"network": network.name},
        )
    query = {"network": network.pk, "year": form.cleaned_data["year"] or timezone.localdate().year}
    return redirect(f"{reverse('outreach_report:index')}?{urlencode(query)}")


def report_community(user, network, year):
    """What the fundraising report shows of the community: whether the network takes part, who
    may change it, and the medians of the networks, only if at least MIN_NETWORKS take part."""
    medians = medians_for(network, year)
    community = {
        "takes_part": medians is not None,
        "show_medians": bool(medians),
        "medians": medians or None,
        "can_change": network in Network.objects.for_user(user),
        "min_networks": MIN_NETWORKS,
        "min_donors": MIN_DONORS,
        "network": network,
        "year": year,
    }
    community["mrr_median"] = median_shown(community, MRR[0], MRR[2])
    return community


def median_shown(community, key, kind):
    """The median cell of the report's headline table: "" for figures the community lacks."""
    medians = community["medians"]
    if medians is None or key not in medians:
        return ""
    return shown(medians[key], kind)


urlpatterns = [
    path("", community_page, name="index"),
    path("csv/", community_csv, name="csv"),
    path("take-part/", take_part, name="take_part"),
]
