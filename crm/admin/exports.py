"""The treasurer's exports of a year (mounted under Donations): the per-donor yearly summary and
the ZIP of a period's receipts. The files themselves are built by `crm.exports`."""

import datetime

from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from crm.exports import export_receipts_zip, export_yearly_summary
from crm.models import Donation, Receipt
from crm.money import YEARS, fiscal_today
from crm.tenancy import network_view, reached


def _year(request):
    """The `?year=` asked for (this year without one); a year no report reaches is a 404."""
    try:
        year = int(request.GET.get("year") or fiscal_today().year)
    except ValueError:
        return fiscal_today().year
    if year not in YEARS:
        raise Http404
    return year


@network_view(Donation, "view")
def exports_page(request):
    """CRM → Exports: the yearly per-donor summary and the ZIP of a period's receipts."""
    today = fiscal_today()
    return TemplateResponse(
        request,
        "crm/admin/exports.html",
        {
            "title": _("Exports"),
            "year": today.year,
            "start": datetime.date(today.year, 1, 1).isoformat(),
            "end": today.isoformat(),
        },
    )


@network_view(Donation, "view")
def export_summary(request):
    export_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return export_yearly_summary(
        reached(request.user, Donation, "view"), _year(request), export_format
    )


@network_view(Receipt, "view")
def export_receipts(request):

    def day(name, default):
        try:
            return datetime.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return default

    year = _year(request)
    start = day("from", datetime.date(year, 1, 1))
    end = day("to", datetime.date(year, 12, 31))
    receipts = reached(request.user, Receipt, "view").filter(
        issued_at__date__gte=start, issued_at__date__lte=end
    )
    return export_receipts_zip(receipts, f"ricevute-{start}-{end}")
