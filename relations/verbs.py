"""The verbs of relationship fundraising: plain functions the screens (and tests) call.

A pledge is never money: `pledge` writes a promise and its schedule; the money is the CRM's
gift (`crm.offline.record_offline_gift`, a Stripe payment, an import), which `link_payment`
ties to the instalment it pays, checking network, donor, status, amount and currency."""

import datetime
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from crm.models import Donation

from .models import CalendarFeed, Call, Instalment, Opportunity, Pledge

MAX_INSTALMENTS = 60


@transaction.atomic
def opportunity_from_call(call: Call, *, user=None) -> Opportunity:
    """The ask a call becomes: to its funder, for its budget, by its deadline, owned by the
    call's owner (or who turns it). An open call is then being prepared."""
    opportunity = Opportunity.objects.create(
        network=call.network,
        title=call.title,
        organisation=call.funder,
        call=call,
        amount_cents=call.budget_cents,
        expected_on=call.deadline,
        owner=call.owner or user,
        stage=Opportunity.Stage.IDEA,
    )
    if call.status == Call.Status.OPEN:
        Call.objects.filter(pk=call.pk).update(status=Call.Status.PREPARING)
        call.status = Call.Status.PREPARING
    log(opportunity, "wagtail.create", user=user)
    return opportunity


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def schedule(amount_cents: int, count: int, first_due_on: datetime.date, every_months: int):
    """(due day, cents) of `count` instalments: equal parts, the remainder on the last, so they
    add up to the amount exactly."""
    part = amount_cents // count
    rows = [(add_months(first_due_on, i * every_months), part) for i in range(count)]
    rows[-1] = (rows[-1][0], amount_cents - part * (count - 1))
    return rows


@transaction.atomic
def pledge(
    opportunity: Opportunity,
    *,
    amount_cents: int,
    instalments: int,
    first_due_on: datetime.date,
    every_months: int = 1,
    kind: str = Pledge.Kind.PLEDGE,
    pledged_on: datetime.date | None = None,
    user=None,
) -> Pledge:
    """Move the ask to pledged: the promise and its instalment schedule (not money)."""
    opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if Pledge.objects.filter(opportunity=opportunity).exists():
        raise ValidationError(_("This ask is already pledged."))
    if opportunity.stage == Opportunity.Stage.LOST:
        raise ValidationError(_("A lost ask cannot be pledged."))
    if amount_cents <= 0:
        raise ValidationError(_("The amount promised must be more than zero."))
    if not 1 <= instalments <= MAX_INSTALMENTS:
        raise ValidationError(_("Between 1 and %(max)d instalments.") % {"max": MAX_INSTALMENTS})
    if instalments > amount_cents:
        raise ValidationError(_("More instalments than cents promised."))
    if not 0 <= every_months <= 24:
        raise ValidationError(_("Instalments come every 0 to 24 months."))
    promise = Pledge.objects.create(
        network=opportunity.network,
        opportunity=opportunity,
        kind=kind,
        amount_cents=amount_cents,
        pledged_on=pledged_on or timezone.localdate(),
    )
    for number, (due_on, part) in enumerate(
        schedule(amount_cents, instalments, first_due_on, every_months), start=1
    ):
        Instalment.objects.create(
            network=opportunity.network,
            pledge=promise,
            number=number,
            due_on=due_on,
            amount_cents=part,
        )
    opportunity.stage = Opportunity.Stage.PLEDGED
    opportunity.amount_cents = amount_cents
    opportunity.probability = 100
    opportunity.save(update_fields=["stage", "amount_cents", "probability"])
    log(opportunity, "wagtail.edit", user=user)
    return promise


def payer_ids(instalment: Instalment) -> set[int]:
    """The donor records whose gifts may pay the instalment: the organisation's, the donor's."""
    opportunity = instalment.pledge.opportunity
    ids = {opportunity.donor_id}
    if opportunity.organisation is not None:
        ids.add(opportunity.organisation.donor_id)
    return {pk for pk in ids if pk is not None}


def check_payment(instalment: Instalment, donation: Donation) -> None:
    """ValidationError (translated) unless `donation` may pay `instalment`."""
    if donation.network_id != instalment.network_id:
        raise ValidationError(_("That gift belongs to another network."))
    if donation.status not in Donation.COUNTED_STATUSES:
        raise ValidationError(_("Only a gift whose money arrived can pay an instalment."))
    if donation.currency != "EUR":
        raise ValidationError(_("Only a gift in euros can pay an instalment."))
    if donation.donor_id not in payer_ids(instalment):
        raise ValidationError(_("That gift is not from whoever made this promise."))
    if donation.amount_cents != instalment.amount_cents:
        raise ValidationError(_("The gift's amount is not the instalment's."))


def link_payment(instalment: Instalment, donation: Donation, *, user=None) -> Instalment:
    """Tie the gift that paid the instalment to it: once (a second link of the same gift, or a
    second gift for a paid instalment, is refused). When every instalment is paid, the ask is
    received."""
    with transaction.atomic():
        instalment = Instalment.objects.select_for_update().get(pk=instalment.pk)
        donation = Donation.objects.select_for_update().get(pk=donation.pk)
        if instalment.donation_id == donation.pk:
            return instalment  # already done: the same request twice
        if instalment.donation_id is not None:
            raise ValidationError(_("This instalment is already paid."))
        if Instalment.objects.filter(donation=donation).exists():
            raise ValidationError(_("That gift already pays another instalment."))
        check_payment(instalment, donation)
        instalment.donation = donation
        instalment.linked_by = user
        instalment.linked_at = timezone.now()
        try:
            with transaction.atomic():
                instalment.save(update_fields=["donation", "linked_by", "linked_at"])
        except IntegrityError as error:
            raise ValidationError(_("That gift already pays another instalment.")) from error
        promise = instalment.pledge
        if not promise.instalments.filter(donation=None).exists():
            Opportunity.objects.filter(
                pk=promise.opportunity_id, stage=Opportunity.Stage.PLEDGED
            ).update(stage=Opportunity.Stage.RECEIVED)
        log(instalment, "wagtail.edit", user=user)
    return instalment


def candidate_gifts(instalment: Instalment):
    """Gifts that could pay the instalment: from the promiser, arrived, not linked yet."""
    return (
        Donation.objects.filter(
            network_id=instalment.network_id,
            donor_id__in=payer_ids(instalment),
            status__in=Donation.COUNTED_STATUSES,
            instalment=None,
        )
        .select_related("donor")
        .order_by("-received_on", "-pk")
    )


def new_calendar_token(user) -> str:
    """A new secret calendar address for `user` (the old one stops working). Only its hash is
    kept: the token is shown once."""
    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    CalendarFeed.objects.update_or_create(user=user, defaults={"token_sha256": digest})
    return token


def revoke_calendar(user) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def user_of_token(token: str):
    digest = hashlib.sha256(token.encode()).hexdigest()
    feed = CalendarFeed.objects.filter(token_sha256=digest, user__is_active=True)
    found = feed.select_related("user").first()
    return found.user if found else None
