"""Matched campaigns: a funder (a foundation, a company, a municipality: an organisation among
the network's donors) pledges to match the gifts of a campaign at a ratio (1:1 is 100%, half is
50%) up to a cap, for the gifts received between two dates.

One figure, `matched_cents`, computed from the gifts each time it is asked: what the campaign's
counted gifts of the period kept (`crm.models.KEPT`: refunds and open disputes reduce it), less
the funder's own gifts, times the ratio, rounded down to the cent, never above the cap. A
pledge is not money (docs/design/domain.md): the matched amount is never in what a campaign
raised. The funder's payment is a normal gift of the funder, recorded like any bank transfer
and linked to the pledge (`record_match_payment`): that gift is money, counted once, as raised;
what the funder still owes is the matched amount less what it paid."""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from crm.models import KEPT, Donation, Donor, Network, NetworkScopedQuerySet
from crm.money import CentsField, format_amount
from crm.offline import record_offline_gift

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class MatchPledge(models.Model):
    """A funder's pledge to match a campaign's gifts (CRM → Matched campaigns). Treasurers set it
    up and record the funder's payments; the campaign page says who doubles the gifts and the
    matched total; the funder's record shows what it owes."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    campaign = models.ForeignKey(
        "campaigns.CampaignPage",
        on_delete=models.PROTECT,
        related_name="match_pledges",
        verbose_name=_("campaign"),
    )
    funder = models.ForeignKey(
        Donor, on_delete=models.PROTECT, related_name="match_pledges", verbose_name=_("funder")
    )
    ratio_percent = models.PositiveSmallIntegerField(
        _("ratio (%)"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("100 doubles every euro (1:1); 50 adds half of it."),
    )
    cap_cents = CentsField(_("cap"), help_text=_("The most the funder gives, in euros."))
    starts_on = models.DateField(_("matches gifts from"))
    ends_on = models.DateField(_("matches gifts until"))
    payments = models.ManyToManyField(
        Donation, blank=True, related_name="match_pledges", verbose_name=_("funder's payments")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = NetworkScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("matching pledge")
        verbose_name_plural = _("matching pledges")
        constraints = [
            models.CheckConstraint(condition=Q(cap_cents__gt=0), name="match_cap_positive"),
            models.CheckConstraint(condition=Q(ratio_percent__gt=0), name="match_ratio_positive"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="match_period_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.funder} · {self.campaign}"


# --- The figures ---------------------------------------------------------------------------------


def matched_gifts(pledge: MatchPledge):
    """The gifts a pledge matches: the campaign's counted gifts received in its period, but the
    funder's own (its payments included)."""
    return (
        Donation.objects.filter(
            campaign_id=pledge.campaign_id,
            received_on__range=(pledge.starts_on, pledge.ends_on),
        )
        .succeeded()
        .exclude(donor_id=pledge.funder_id)
        .exclude(match_pledges=pledge)
    )


def matched_cents(pledge: MatchPledge) -> int:
    """What the funder pledged for the gifts so far: what they kept times the ratio, rounded
    down to the cent, at most the cap. Never money raised."""
    kept = matched_gifts(pledge).aggregate(kept=Sum(KEPT))["kept"] or 0
    return min(pledge.cap_cents, kept * pledge.ratio_percent // 100)


def paid_cents(pledge: MatchPledge) -> int:
    """What the funder paid against the pledge: its linked gifts, as they count now."""
    return pledge.payments.all().aggregate(paid=Sum(KEPT))["paid"] or 0


@dataclass(frozen=True)
class MatchFigures:
    pledge: MatchPledge
    matched_cents: int
    paid_cents: int

    @property
    def owed_cents(self) -> int:
        """Matched and not paid yet (never below zero: a payment above it is a gift)."""
        return max(0, self.matched_cents - self.paid_cents)


def figures(pledge: MatchPledge) -> MatchFigures:
    return MatchFigures(pledge, matched_cents(pledge), paid_cents(pledge))


def campaign_matches(campaign_id: int) -> list[dict]:
    """What a campaign page says of its pledges: who matches, at which ratio, how much so far."""
    pledges = MatchPledge.objects.filter(campaign_id=campaign_id).select_related("funder")
    return [
        {
            "funder": pledge.funder.display_name,
            "ratio_percent": pledge.ratio_percent,
            "matched_cents": matched_cents(pledge),
            "cap_cents": pledge.cap_cents,
        }
        for pledge in pledges.order_by("starts_on", "pk")
    ]


# --- The verbs -----------------------------------------------------------------------------------


def check_pledge(pledge: MatchPledge) -> None:
    """Raise ValidationError (by field) unless the funder is an organisation of the campaign's
    network and the period is ordered."""
    errors = {}
    network = pledge.campaign.network if pledge.campaign_id else None
    if network is None:
        raise ValidationError({"campaign": _("Choose a campaign of one of your networks.")})
    if pledge.funder_id is None or pledge.funder.network_id != network.pk:
        errors["funder"] = _("Choose a funder among the donors of the campaign's network.")
    elif pledge.funder.kind != Donor.Kind.ORGANISATION:
        errors["funder"] = _("The funder must be an organisation (a foundation, a company…).")
    if pledge.starts_on and pledge.ends_on and pledge.ends_on < pledge.starts_on:
        errors["ends_on"] = _("The end cannot come before the start.")
    if errors:
        raise ValidationError(errors)
    pledge.network = network


def record_match_payment(
    pledge: MatchPledge,
    *,
    amount_cents: int,
    received_on: datetime.date,
    method: str = Donation.Method.BANK_TRANSFER,
    reference: str = "",
    recorded_by: "User | None" = None,
) -> Donation:
    """The funder paid (part of) what it owes: a normal offline gift of the funder on the
    campaign (its receipt and thanks as any gift's), linked to the pledge, so it counts once,
    as money raised, and reduces what the funder owes."""
    with transaction.atomic():
        gift = record_offline_gift(
            network=pledge.network,
            donor=pledge.funder,
            amount_cents=amount_cents,
            received_on=received_on,
            method=method,
            reference=reference,
            campaign=pledge.campaign,
            recorded_by=recorded_by,
        )
        pledge.payments.add(gift)
    return gift


def funder_sections(request, donor: Donor) -> list[dict]:
    """The funder's page in the CRM (`crm.extensions.DONOR_SECTIONS`): each pledge with what is
    matched so far, paid and owed."""
    sections = []
    for pledge in donor.match_pledges.select_related("campaign").order_by("starts_on"):
        numbers = figures(pledge)
        sections.append(
            {
                "title": _("Matching pledge: %(campaign)s") % {"campaign": pledge.campaign.title},
                "rows": [
                    (_("Ratio"), f"{pledge.ratio_percent}%"),
                    (_("Cap"), format_amount(pledge.cap_cents)),
                    (_("Period"), f"{pledge.starts_on:%d/%m/%Y} – {pledge.ends_on:%d/%m/%Y}"),
                    (_("Matched so far"), format_amount(numbers.matched_cents)),
                    (_("Paid"), format_amount(numbers.paid_cents)),
                    (_("Owed"), format_amount(numbers.owed_cents)),
                ],
            }
        )
    return sections
