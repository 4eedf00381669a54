"""The funder report: for an organisation and a period, what it gave (crm's money of its donor
record), what its people gave (soft credits, shown apart and never added to money), what it
funded (its asks and promises, with their instalments), and how the campaigns it funded did."""

import datetime

from crm import extensions
from crm.models import Network
from crm.money import format_amount

from .figures import gifts_of, relationship_figures
from .models import Opportunity, Organisation


def funder_report(organisation: Organisation, start: datetime.date, end: datetime.date) -> dict:
    money = relationship_figures(organisation, start, end)
    gifts = (
        gifts_of(organisation)
        .counted()
        .filter(received_on__range=(start, end))
        .with_money()
        .select_related("campaign")
        .order_by("received_on", "pk")
    )
    campaign_ids = {g.campaign.title for g in gifts if g.campaign_id}
    asks = (
        Opportunity.objects.filter(organisation=organisation)
        .exclude(stage=Opportunity.Stage.LOST)
        .select_related("campaign", "pledge")
        .order_by("expected_on", "pk")
    )
    funded = []
    for ask in asks:
        promise = getattr(ask, "pledge", None)
        instalments = list(promise.instalments.order_by("number")) if promise else []
        paid = sum(i.amount_cents for i in instalments if i.donation_id)
        funded.append(
            {
                "ask": ask,
                "promised": format_amount(promise.amount_cents) if promise else "—",
                "paid": format_amount(paid),
                "instalments": instalments,
            }
        )
        if ask.campaign is not None:
            campaign_ids.add(ask.campaign.title)
    campaigns = [
        {
            **row,
            "raised_display": format_amount(row["raised"]),
            "goal_display": format_amount(row["goal"]) if row["goal"] else "",
        }
        for row in extensions.campaign_progress(Network.objects.filter(pk=organisation.network_id))
        if row["title"] in campaign_ids
    ]
    return {
        "organisation": organisation,
        "network": organisation.network,
        "start": start,
        "end": end,
        "given": format_amount(money.given),
        "soft_credits": format_amount(money.soft_credits),
        "gifts": [(g.received_on, format_amount(g.kept_amount_cents), g) for g in gifts],
        "funded": funded,
        "campaigns": campaigns,
    }
