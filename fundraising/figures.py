"""The income of a public-fundraising report, read from the money each time it is asked, with
the project's one definition of each figure: a gift counts as `crm`'s `DonationQuerySet.raised`
counts it (what it kept: less refunds, nothing of a gift in open dispute), ticket income as
`events.figures.event_figures` counts it (paid orders, less ticket refunds), and the matched
funds received are the funders' payments linked to the campaign's pledges (`campaigns.matches`:
ordinary gifts, counted once, as money raised), shown on their own line and never twice."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campaigns.matches import MatchPledge
from crm.models import Donation
from events.figures import event_figures

from .models import FundraisingReport


@dataclass(frozen=True)
class IncomeLine:
    key: str
    label: str | Promise  # translated when shown
    cents: int


def campaign_gifts(report: FundraisingReport):
    """The campaign's gifts received in the report's period (days in Italy, `received_on`)."""
    return Donation.objects.filter(
        campaign_id=report.campaign_id, received_on__range=(report.starts_on, report.ends_on)
    )


def _match_payments(report: FundraisingReport):
    """The ids of the funders' payments against the campaign's matching pledges."""
    through = MatchPledge.payments.through.objects
    return through.filter(matchpledge__campaign_id=report.campaign_id).values("donation_id")


def income_lines(report: FundraisingReport) -> list[IncomeLine]:
    """The report's income, line by line, each net of refunds, in cents."""
    if report.campaign_id:
        gifts = campaign_gifts(report)
        matched = gifts.filter(pk__in=_match_payments(report))
        others = gifts.exclude(pk__in=_match_payments(report))
        return [
            IncomeLine(
                "online",
                _("Online gifts"),
                others.filter(channel=Donation.Channel.ONLINE).raised(),
            ),
            IncomeLine(
                "offline",
                _("Offline gifts"),
                others.filter(channel=Donation.Channel.OFFLINE).raised(),
            ),
            IncomeLine("matched", _("Matched funds received"), matched.raised()),
        ]
    # An event: its tickets and the gifts on top, the event's own figures (the whole event).
    assert report.event is not None  # a report has a campaign or an event (constraint)
    figures = event_figures(report.event)
    return [
        IncomeLine("tickets", _("Tickets"), figures["ticket_income_cents"]),
        IncomeLine("online", _("Gifts on top of tickets"), figures["donations_cents"]),
    ]
