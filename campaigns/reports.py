"""Campaigns as the CRM sees them, lent to the core through `crm.extensions` hooks (registered
in `campaigns.wagtail_hooks`): the campaign pages of some networks and their goal progress."""

from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from crm.models import KEPT, Donation

from .matches import MatchPledge, matched_cents
from .models import CampaignPage


def campaign_pages(networks):
    """Campaign pages under the network pages of `networks` (a queryset of networks)."""
    paths = list(networks.filter(page__isnull=False).values_list("page__path", flat=True))
    if not paths:
        return CampaignPage.objects.none()
    condition = Q()
    for prefix in paths:
        condition |= Q(path__startswith=prefix)
    return CampaignPage.objects.filter(condition)


def campaign_progress(networks):
    """Goal progress of every campaign of `networks` for the dashboard, in one query: the
    raised sum is a correlated subquery."""
    raised = (
        Donation.objects.succeeded()
        .filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        .annotate(total=Sum(KEPT))
        .values("total")
    )
    matched: dict[int, int] = {}
    pledges = MatchPledge.objects.filter(network__in=networks).select_related("funder")
    for pledge in pledges:  # a pledge, never raised: said apart (campaigns.matches)
        matched[pledge.campaign_id] = matched.get(pledge.campaign_id, 0) + matched_cents(pledge)
    return [
        {
            "title": title,
            "raised": total,
            "goal": goal,
            "percent": min(100, round(100 * total / goal)) if goal else None,
            "matched": matched.get(pk),
        }
        for pk, title, goal, total in campaign_pages(networks)
        .annotate(raised=Coalesce(Subquery(raised), 0))
        .order_by("path")
        .values_list("pk", "title", "goal_cents", "raised")
    ]
