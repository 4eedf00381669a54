"""Figures for the admin home of treasurers: only the networks the user reaches.

The monthly chart is plain server-side SVG (no JavaScript, nothing fetched)."""

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractMonth
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dates import MONTHS as MONTH_NAMES  # Django's own, translated
from django.utils.text import capfirst
from wagtail.admin.ui.components import Component

from crm import extensions
from crm.models import KEPT, Donation, Donor, IssuingEntity, Receipt, RecurringPlan
from crm.money import fiscal_today, format_amount, gift_year_bounds
from crm.tenancy import policy_for


def figures(networks, today=None, user=None):
    """The dashboard's numbers for `networks` (a scoped queryset): money raised as
    `DonationQuerySet` defines it, in the fiscal year of `today` (a day in Italy). With `user`,
    the gifts and receipts are those the user reaches: an entity's own treasurer reaches no
    network, only the entity's gifts and receipts."""
    today = today or fiscal_today()
    if user is None:
        donations = Donation.objects.filter(network__in=networks)
        receipts = Receipt.objects.filter(network__in=networks)
    else:
        donations = policy_for(Donation).scope(Donation.objects.all(), user)
        receipts = policy_for(Receipt).scope(Receipt.objects.all(), user)
    counted = donations.succeeded()
    this_year = counted.of_year(today.year)
    last_year_to_date = counted.filter(
        received_on__range=(gift_year_bounds(today.year - 1)[0], _same_day_last_year(today))
    )
    monthly = dict(
        this_year.annotate(month=ExtractMonth("received_on"))
        .order_by()
        .values_list("month")
        .annotate(total=Sum(KEPT))
    )
    return {
        "this_year": this_year.raised(),
        "last_year": last_year_to_date.raised(),
        "gifts_this_year": this_year.count(),
        "monthly": [monthly.get(m, 0) for m in range(1, 13)],
        # Lent by the giving app (`crm.extensions`): the core knows no campaign model.
        "campaigns": extensions.campaign_progress(networks),
        "recent": list(counted.select_related("donor").order_by("-received_on", "-id")[:8]),
        "failing_plans": list(
            RecurringPlan.objects.filter(network__in=networks)
            .filter(Q(status=RecurringPlan.Status.PAST_DUE) | Q(failures__gt=0))
            .exclude(status=RecurringPlan.Status.CANCELLED)
            .select_related("donor")[:8]
        ),
        # What a treasurer acts on.
        "awaiting_receipts": counted.filter(wants_receipt=True)
        .exclude(receipts__status=Receipt.Status.ISSUED)
        .count(),
        "open_disputes": donations.filter(status=Donation.Status.DISPUTED).count(),
        "undelivered_receipts": list(
            receipts.filter(status=Receipt.Status.ISSUED)
            .annotate(delivered=Count("emails", filter=Q(emails__status__in=("sent", "delivered"))))
            .filter(delivered=0)
            .select_related("donor")
            .order_by("-issued_at")[:8]
        ),
    }


def _same_day_last_year(today):
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


def monthly_bars_svg(monthly, width=480, height=160):
    """A bar per month, heights relative to the best month, its amount written above it; the
    month's initial below. The table next to it (`monthly_rows`) says the same in words."""
    top = max(monthly) or 1
    axis = 70  # room on the left for the scale's values
    bar = (width - axis) // 12
    plot = height - 14  # room above the bars for their values
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 20}" '
        f'width="{width}" height="{height + 20}" style="max-width:100%;height:auto" '
        f'aria-hidden="true" class="crm-monthly">',
        f'<line x1="{axis - 2}" y1="14" x2="{axis - 2}" y2="{height}" stroke="#888"/>',
        f'<text x="{axis - 6}" y="18" font-size="10" text-anchor="end">{format_amount(top)}</text>',
        f'<text x="{axis - 6}" y="{height}" font-size="10" text-anchor="end">'
        f"{format_amount(0)}</text>",
    ]
    for i, cents in enumerate(monthly):
        h = round(plot * cents / top)
        x = axis + i * bar + 3
        middle = x + (bar - 6) // 2
        parts.append(
            f'<rect x="{x}" y="{height - h}" width="{bar - 6}" height="{h}" fill="#2e1f5e">'
            f"<title>{capfirst(MONTH_NAMES[i + 1])}: {format_amount(cents)}</title></rect>"
            f'<text x="{middle}" y="{height + 15}" font-size="11" '
            f'text-anchor="middle">{str(MONTH_NAMES[i + 1])[:1].upper()}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def monthly_rows(monthly):
    """The chart as a table: (month, amount) for every month."""
    return [(capfirst(MONTH_NAMES[i + 1]), format_amount(cents)) for i, cents in enumerate(monthly)]


class CrmSummaryPanel(Component):
    name = "crm_summary"
    order = 50
    template_name = "crm/admin/dashboard_panel.html"

    def __init__(self, networks, user=None, entities=()):
        self.networks = networks
        self.user = user
        # An entity's own treasurer's entities: the panel is theirs, not a network's.
        self.entities = entities

    def get_context_data(self, parent_context=None):
        data = figures(self.networks, user=self.user)
        data["chart"] = monthly_bars_svg(data["monthly"])
        data["chart_rows"] = monthly_rows(data["monthly"])
        data["this_year_display"] = format_amount(data["this_year"])
        data["last_year_display"] = format_amount(data["last_year"])
        for campaign in data["campaigns"]:
            campaign["raised_display"] = format_amount(campaign["raised"])
            if campaign.get("matched") is not None:
                campaign["matched_display"] = format_amount(campaign["matched"])
            campaign["goal_display"] = format_amount(campaign["goal"]) if campaign["goal"] else ""
        data["networks"] = self.networks
        data["entities"] = self.entities
        data["donors_readable"] = self._reaches(Donor)
        # Plans are the network's (no entity of their own): an entity's own treasurer reaches
        # none, and reads no line about them (it would always say 0).
        data["plans_readable"] = self._reaches(RecurringPlan)
        # Likewise gifts awaiting a receipt: a count for who issues receipts (the network's
        # treasurers), not for an entity's own treasurer, who reads receipts but issues none.
        data["receipts_issuable"] = self._reaches(Receipt, "add")
        gifts = reverse("crm_donation:index")
        data["disputes_url"] = f"{gifts}?status={Donation.Status.DISPUTED}"
        data["year"] = fiscal_today().year
        return data

    def _reaches(self, model, action="view"):
        return self.user is None or policy_for(model).user_has_permission(self.user, action)

    def render_html(self, parent_context=None):
        return render_to_string(self.template_name, self.get_context_data(parent_context))


def crm_homepage_panels(request):
    policy = policy_for(Donation)
    if not policy.user_has_permission(request.user, "view"):
        return []
    user = request.user
    entities = [entity.legal_name for entity in IssuingEntity.objects.of_entity_treasurer(user)]
    return [CrmSummaryPanel(policy.networks_for(user), user, entities)]
