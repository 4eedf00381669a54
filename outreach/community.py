"""The community of practice: the yearly figures of the networks that chose to take part, side
by side, and the median of them all, for the observers (the funding foundation, a network of
networks) and for each taking-part network against itself.

Only counts, sums and ratios built by `outreach.report` leave a network, never a person, and no
figure built from fewer than `MIN_DONORS` donors: such a cell is hidden (None) everywhere, in
the table, in the CSV and in the median, which is computed from the shown cells only. A cell
derived from a hidden one is hidden with it: the recurring share times the amount is the total
of the recurring gifts, and one minus it times the amount the total of the others, so the share
shows only when both the donors who gave through a plan and those who gave otherwise are at
least `MIN_DONORS`, and the monthly recurring revenue (near a twelfth of the recurring total)
only with the share (tests/security/test_fourth_round_attacks.py tries the combinations).

A network sees the median of a figure only when at least `MIN_NETWORKS` (5) networks show it.
With three, the median is the middle network's own figure, and with four it is the mean of two
of them: a network that knows its own figure (and some of the others') would read another's.
With five or more it is still one network's figure, but that network is one of four others
that nobody can tell apart. The observers see every network's row, so their table's median
tells them nothing new and is shown from the shown cells whatever their number.
"""

import hashlib
import statistics

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Donation, Network, RecurringPlan
from crm.money import gift_year_bounds

from .models import CommunityMembership
from .report import by_year, monthly_recurring_revenue, year_figures

MIN_DONORS = 5
MIN_NETWORKS = 5
# Each network's report shows the medians of all: computed once per year and set of taking-part
# networks, then kept this long (a gift shows in the medians within a quarter of an hour).
MEDIANS_CACHE_SECONDS = 900
OBSERVERS = "Osservatori"  # the group created by migration outreach 0004 (renamed by 0009)
VIEW_COMMUNITY = "outreach.view_community"

# (key, label, kind): kind is count, money or rate. The keys of `year_figures` but the last.
FIGURES = (
    ("donors", _("Donors"), "count"),
    ("gifts", _("Gifts"), "count"),
    ("amount", _("Amount"), "money"),
    ("average_gift", _("Average gift"), "money"),
    ("median_gift", _("Median gift"), "money"),
    ("retention", _("Retention rate"), "rate"),
    ("new_donors", _("New donors"), "count"),
    ("recurring_share", _("Recurring share"), "rate"),
)
MRR = ("monthly_recurring_revenue", _("Monthly recurring revenue (active plans today)"), "money")


def can_observe(user):
    """Observers and superusers see the community screen."""
    return user.is_authenticated and user.is_active and user.has_perm(VIEW_COMMUNITY)


def taking_part():
    """The networks that take part, by name."""
    return Network.objects.filter(community_membership__takes_part=True).order_by("name")


def takes_part(network):
    return CommunityMembership.objects.filter(network=network, takes_part=True).exists()


@transaction.atomic
def set_taking_part(network, takes_part, user):
    """A treasurer's (or a superuser's) choice for their network; remembered with who and when."""
    membership, _ = CommunityMembership.objects.select_for_update().get_or_create(network=network)
    membership.takes_part = takes_part
    membership.changed_by = user
    membership.changed_at = timezone.now()
    membership.save()
    return membership


def plan_donors(network):
    """How many distinct donors the network's active plans come from today."""
    return RecurringPlan.objects.filter(
        network=network, status=RecurringPlan.Status.ACTIVE
    ).aggregate(donors=Count("donor", distinct=True))["donors"]


def recurring_split(network, year):
    """(donors who gave through a plan, donors who gave otherwise) in `year`: the two groups
    whose totals the recurring share and the amount give away together."""
    gifts = Donation.objects.filter(
        network=network, received_on__range=gift_year_bounds(year), donor__isnull=False
    ).succeeded()
    counts = gifts.aggregate(
        recurring=Count("donor", distinct=True, filter=Q(recurring_plan__isnull=False)),
        other=Count("donor", distinct=True, filter=Q(recurring_plan__isnull=True)),
    )
    return counts["recurring"], counts["other"]


def network_cells(network, year, *, with_mrr=False):
    """The network's figures of `year`: {key: value}, None where the figure would be built from
    fewer than MIN_DONORS donors (the year's donors; for retention also the year before's; for
    the recurring share, the donors through a plan and the others, unless a group is empty; for
    the monthly recurring revenue, the donors of the active plans, and the share shown)."""
    figures = year_figures(network, year)
    if figures["donors"] < MIN_DONORS:
        cells = dict.fromkeys((key for key, _label, _kind in FIGURES), None)
    else:
        cells = {key: figures[key] for key, _label, _kind in FIGURES}
        donors_before = {row["year"]: row["donors"] for row in by_year(network)}.get(year - 1, 0)
        if donors_before < MIN_DONORS:
            cells["retention"] = None
        # A group of none gives nothing away (its total is 0, the other's the amount).
        if any(0 < count < MIN_DONORS for count in recurring_split(network, year)):
            cells["recurring_share"] = None
    if with_mrr:
        # The monthly recurring revenue times the months is near the recurring total, and the
        # amount less that near the few others' total: hidden with the share it stands for.
        shown = (
            plan_donors(network) >= MIN_DONORS
            and figures["donors"] >= MIN_DONORS
            and cells["recurring_share"] is not None
        )
        cells[MRR[0]] = monthly_recurring_revenue(network) if shown else None
    return cells


def median(values, kind):
    """The median of the shown values (None if there are none); cents stay whole."""
    values = [value for value in values if value is not None]
    if not values:
        return None
    middle = statistics.median(values)
    return round(middle) if kind == "money" else middle


def year_block(networks, year, *, with_mrr=False):
    """One year of the community table: a row per network and the medians."""
    figures = FIGURES + (MRR,) if with_mrr else FIGURES
    rows = [
        {"network": network, "cells": network_cells(network, year, with_mrr=with_mrr)}
        for network in networks
    ]
    medians = {
        key: median([row["cells"][key] for row in rows], kind) for key, _label, kind in figures
    }
    return {"year": year, "figures": figures, "rows": rows, "medians": medians}


def community_table(year):
    """What the observers see: `year` (with today's monthly recurring revenue) and the year
    before, for the networks that take part; and how many networks do not."""
    networks = list(taking_part())
    return {
        "year": year,
        "blocks": [
            year_block(networks, year, with_mrr=True),
            year_block(networks, year - 1),
        ],
        "taking_part": len(networks),
        "not_taking_part": Network.objects.count() - len(networks),
    }


def medians_for(network, year):
    """What a taking-part network sees of the others: {key: median of the networks}, None for a
    figure shown by fewer than MIN_NETWORKS networks; {} when fewer than MIN_NETWORKS networks
    take part; None if the network itself does not take part."""
    if not takes_part(network):
        return None
    networks = list(taking_part())
    if len(networks) < MIN_NETWORKS:
        return {}
    # Keyed by who takes part: joining or leaving gives new medians at once.
    who = hashlib.sha256(",".join(str(n.pk) for n in networks).encode()).hexdigest()[:16]
    key = f"outreach:community:medians:{year}:{who}"
    medians = cache.get(key)
    if medians is None:
        block = year_block(networks, year, with_mrr=True)
        medians = {}
        for figure, _label, kind in block["figures"]:
            shown = [row["cells"][figure] for row in block["rows"]]
            shown = [value for value in shown if value is not None]
            medians[figure] = median(shown, kind) if len(shown) >= MIN_NETWORKS else None
        cache.set(key, medians, MEDIANS_CACHE_SECONDS)
    return medians
