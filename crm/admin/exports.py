"""The treasurer's exports of a year (mounted under Donations): the per-donor yearly summary and
the ZIP of a period's receipts. The files themselves are built by `crm.exports`."""

import datetime

from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from crm.exports import export_receipts_zip, export_yearly_summary
from crm.models import Donation, Receipt
from crm.money import fiscal_today

from .common import require_perm


def _year(request):
    try:
        return int(request.GET.get("year") or fiscal_today().year)
    except ValueError:
        return fiscal_today().year


def exports_page(request):
    """CRM → Exports: the yearly per-donor summary and the ZIP of a period's receipts."""
    require_perm(request, "view_donation")
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


def export_summary(request):
    require_perm(request, "view_donation")
    export_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return export_yearly_summary(
        Donation.objects.for_user(request.user), _year(request), export_format
    )


def export_receipts(request):
    require_perm(request, "view_receipt")

    def day(name, default):
        try:
            return datetime.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return default

    year = _year(request)
    start = day("from", datetime.date(year, 1, 1))
    end = day("to", datetime.date(year, 12, 31))
    receipts = Receipt.objects.for_user(request.user).filter(
        issued_at__date__gte=start, issued_at__date__lte=end
    )
    return export_receipts_zip(receipts, f"ricevute-{start}-{end}")
