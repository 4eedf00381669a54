"""Who is in a segment: a pure function of the segment, the records and today's date.

A gift counts when `crm` counts it (succeeded or partly refunded), by its `received_on` date.
Years are calendar years: LYBUNT ("last year but unfortunately not this") gave last year and
not this year; SYBUNT ("some year but unfortunately not this") gave before last year and
neither last year nor this year. Merged and anonymised donors are never members."""

from django.db.models import Exists, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from crm.models import KEPT, Donation, Donor, RecurringPlan
from crm.money import fiscal_today

from .models import Segment

LAPSED_PLAN_STATUSES = (
    RecurringPlan.Status.CANCELLED,
    RecurringPlan.Status.PAST_DUE,
    RecurringPlan.Status.PAUSED,
)


def _gifts(network):
    return Donation.objects.filter(
        network=network, donor=OuterRef("pk"), status__in=Donation.COUNTED_STATUSES
    )


def members(segment, today=None):
    """The donors of the segment's network that match every filter it sets."""
    year = (today or fiscal_today()).year
    gifts = _gifts(segment.network)

    def gave(**lookups):
        return Exists(gifts.filter(**lookups))

    donors = Donor.objects.filter(
        network=segment.network, merged_into__isnull=True, anonymised_at__isnull=True
    )
    if segment.campaign_id:
        donors = donors.filter(gave(campaign_id=segment.campaign_id))
    if segment.gave_in_year:
        donors = donors.filter(gave(received_on__year=segment.gave_in_year))
    if segment.not_given_in_year:
        donors = donors.filter(~gave(received_on__year=segment.not_given_in_year))
    if segment.lybunt:
        donors = donors.filter(gave(received_on__year=year - 1), ~gave(received_on__year=year))
    if segment.sybunt:
        donors = donors.filter(
            gave(received_on__year__lt=year - 1), ~gave(received_on__year__gte=year - 1)
        )
    if segment.first_time:
        donors = donors.filter(gave(received_on__year=year), ~gave(received_on__year__lt=year))
    if segment.plan:
        plans = RecurringPlan.objects.filter(network=segment.network, donor=OuterRef("pk"))
        active = Exists(plans.filter(status=RecurringPlan.Status.ACTIVE))
        if segment.plan == Segment.Plan.ACTIVE:
            donors = donors.filter(active)
        else:
            donors = donors.filter(~active, Exists(plans.filter(status__in=LAPSED_PLAN_STATUSES)))
    if segment.min_total_cents is not None or segment.max_total_cents is not None:
        counted = gifts
        if segment.gave_in_year:
            counted = counted.filter(received_on__year=segment.gave_in_year)
        total = counted.values("donor").annotate(total=Sum(KEPT)).values("total")
        donors = donors.annotate(
            segment_total=Coalesce(Subquery(total, output_field=IntegerField()), Value(0))
        )
        if segment.min_total_cents is not None:
            donors = donors.filter(segment_total__gte=segment.min_total_cents)
        if segment.max_total_cents is not None:
            donors = donors.filter(segment_total__lte=segment.max_total_cents)
    if segment.language:
        donors = donors.filter(language=segment.language)
    if segment.consent == Segment.Consent.CONSENTED:
        donors = donors.filter(newsletter=True, newsletter_confirmed_at__isnull=False)
    elif segment.consent == Segment.Consent.NOT_CONSENTED:
        donors = donors.exclude(newsletter=True, newsletter_confirmed_at__isnull=False)
    return donors


def reachable(segment, today=None):
    """The members who may be written to: confirmed newsletter consent and an email address."""
    return (
        members(segment, today)
        .filter(newsletter=True, newsletter_confirmed_at__isnull=False)
        .exclude(email="")
    )
