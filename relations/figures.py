"""The figures of relationship fundraising. Money is asked of `crm` only (`DonationQuerySet`:
`raised`, `of_year`): an organisation's gifts are its donor record's; a soft credit (an
employee's gift shown in the company's relationship) is a second *view* of a gift already
counted, never a second count; a pledge and its unpaid instalments are promises, not money."""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from crm.models import Donation
from crm.money import fiscal_today, gift_year_bounds

from .models import Instalment, Opportunity, Organisation, Relationship, YearTarget


def gifts_of(organisation: Organisation):
    """The organisation's own gifts: those of its donor record."""
    if organisation.donor_id is None:
        return Donation.objects.none()
    return Donation.objects.filter(donor_id=organisation.donor_id)


def soft_credited_gifts(organisation: Organisation):
    """Gifts of the people whose relationship with the organisation is soft-credited (an
    employee's gift counts in the company relationship), the organisation's own excluded."""
    people = Relationship.objects.filter(organisation=organisation, soft_credit=True).values(
        "person_id"
    )
    gifts = Donation.objects.filter(network_id=organisation.network_id, donor_id__in=people)
    if organisation.donor_id is not None:
        gifts = gifts.exclude(donor_id=organisation.donor_id)
    return gifts


def _in_period(gifts, start, end):
    if start is not None:
        gifts = gifts.filter(received_on__gte=start)
    if end is not None:
        gifts = gifts.filter(received_on__lte=end)
    return gifts


@dataclass(frozen=True)
class RelationshipFigures:
    """In cents: what the organisation gave (money) and what its people gave (soft credits,
    already counted as their own money)."""

    given: int
    soft_credits: int

    @property
    def relationship(self):
        return self.given + self.soft_credits


def relationship_figures(
    organisation: Organisation,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> RelationshipFigures:
    return RelationshipFigures(
        given=_in_period(gifts_of(organisation), start, end).raised(),
        soft_credits=_in_period(soft_credited_gifts(organisation), start, end).raised(),
    )


def weighted(amount_cents: int, probability: int) -> Decimal:
    return Decimal(amount_cents) * Decimal(probability) / Decimal(100)


def cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Pipeline:
    year: int
    stages: list = field(default_factory=list)  # (stage, label, count, amount, weighted)
    forecast: int = 0
    target: int = 0
    received: int = 0

    @property
    def percent_of_target(self):
        return round(100 * self.forecast / self.target) if self.target else None


def pipeline(networks, year: int | None = None) -> Pipeline:
    """The asks expected in `year` (no date: this year) of `networks`, by stage: how many, how
    much, and the weighted forecast (amount × probability, lost asks out) against the year's
    target; and the money already received for instalments that year (crm's `raised`)."""
    year = year or fiscal_today().year
    start, end = gift_year_bounds(year)
    opportunities = Opportunity.objects.filter(network__in=networks).exclude(expected_on__lt=start)
    opportunities = opportunities.exclude(expected_on__gt=end)
    if year != fiscal_today().year:
        opportunities = opportunities.exclude(expected_on=None)
    result = Pipeline(year=year)
    total = Decimal(0)
    rows = {
        row["stage"]: row
        for row in opportunities.order_by()
        .values("stage")
        .annotate(count=Count("pk"), amount=Sum("amount_cents"))
    }
    by_stage: dict[str, Decimal] = {}
    for amount, probability, stage in opportunities.values_list(
        "amount_cents", "probability", "stage"
    ):
        by_stage[stage] = by_stage.get(stage, Decimal(0)) + weighted(amount, probability)
    for stage, label in Opportunity.Stage.choices:
        row = rows.get(stage, {"count": 0, "amount": 0})
        value = Decimal(0) if stage == Opportunity.Stage.LOST else by_stage.get(stage, Decimal(0))
        total += value
        result.stages.append((stage, label, row["count"], row["amount"] or 0, cents(value)))
    result.forecast = cents(total)
    target = YearTarget.objects.filter(network__in=networks, year=year).aggregate(
        total=Sum("amount_cents")
    )
    result.target = target["total"] or 0
    result.received = (
        Donation.objects.filter(instalment__network__in=networks).of_year(year).raised()
    )
    return result


def open_instalments(networks):
    """Instalments not paid yet (no gift linked), earliest first."""
    return (
        Instalment.objects.filter(network__in=networks, donation=None)
        .select_related("pledge__opportunity__organisation")
        .order_by("due_on", "pk")
    )


def due_and_late(networks, today: datetime.date | None = None):
    """(late, due) unpaid instalments: late ones were due before today."""
    today = today or fiscal_today()
    rows = list(open_instalments(networks))
    return [i for i in rows if i.due_on < today], [i for i in rows if i.due_on >= today]
