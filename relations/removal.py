"""Deleting relationship rows and undoing a gift's link: plain verbs the screens call.

Money decides: an ask whose promise has a paid instalment (a gift linked to it), or an
organisation with such an ask, is never deleted (the treasurer unlinks the gift first). Without
money an ask goes with its promise, schedule and reports; an organisation with its asks and
calls (its people's relationships, interactions and tasks go by the database's cascade).
A promise's schedule is changed only while none of its instalments is paid."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .models import Call, Instalment, Opportunity, Organisation, Pledge
from .verbs import MAX_INSTALMENTS, schedule


def paid_instalments(asks) -> int:
    """How many instalments of the promises of `asks` a gift has paid."""
    return Instalment.objects.filter(pledge__opportunity__in=asks, donation__isnull=False).count()


def refusal(row: Opportunity | Organisation) -> str:
    """Why `row` may not be deleted (translated), or "" when it may."""
    if isinstance(row, Organisation):
        asks = Opportunity.objects.filter(organisation=row)
    else:
        asks = Opportunity.objects.filter(pk=row.pk)
    paid = paid_instalments(asks)
    if not paid:
        return ""
    return _(
        "It cannot be deleted: %(count)d paid instalments are linked to gifts. A treasurer "
        "must unlink those gifts first."
    ) % {"count": paid}


def _delete_asks(asks) -> None:
    Pledge.objects.filter(opportunity__in=asks).delete()  # instalments and reports cascade
    asks.delete()


def delete_opportunity(ask: Opportunity, *, user=None) -> None:
    """Delete the ask with its unpaid promise; ValidationError when money is linked."""
    with transaction.atomic():
        ask = Opportunity.objects.select_for_update().get(pk=ask.pk)
        reason = refusal(ask)
        if reason:
            raise ValidationError(reason)
        log(ask, "wagtail.delete", user=user)
        _delete_asks(Opportunity.objects.filter(pk=ask.pk))


def delete_organisation(organisation: Organisation, *, user=None) -> None:
    """Delete the organisation with its asks and calls; ValidationError when money is linked."""
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        reason = refusal(organisation)
        if reason:
            raise ValidationError(reason)
        log(organisation, "wagtail.delete", user=user)
        _delete_asks(Opportunity.objects.filter(organisation=organisation))
        Call.objects.filter(funder=organisation).delete()
        organisation.delete()


def unlink_payment(instalment: Instalment, *, user=None) -> Instalment:
    """A treasurer undoes a wrong link: the instalment is due again (and a received ask is
    pledged again). The gift itself is untouched."""
    with transaction.atomic():
        instalment = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if instalment.donation_id is None:
            return instalment  # already undone: the same request twice
        instalment.donation = None
        instalment.linked_by = None
        instalment.linked_at = None
        instalment.save(update_fields=["donation", "linked_by", "linked_at"])
        Opportunity.objects.filter(
            pk=instalment.pledge.opportunity_id, stage=Opportunity.Stage.RECEIVED
        ).update(stage=Opportunity.Stage.PLEDGED)
        log(instalment, "wagtail.edit", user=user)
    return instalment


def reschedule(
    promise: Pledge,
    *,
    amount_cents: int,
    instalments: int,
    first_due_on: datetime.date,
    every_months: int,
    kind: str,
    user=None,
) -> Pledge:
    """Replace the promise's amount, kind and schedule (a typo fixed); ValidationError once a
    gift pays one of its instalments, or for a schedule `verbs.pledge` would refuse."""
    with transaction.atomic():
        promise = Pledge.objects.select_for_update().get(pk=promise.pk)
        if promise.instalments.filter(donation__isnull=False).exists():
            raise ValidationError(
                _("An instalment is already paid: the schedule can no longer change.")
            )
        if amount_cents <= 0:
            raise ValidationError(_("The amount promised must be more than zero."))
        if not 1 <= instalments <= MAX_INSTALMENTS:
            raise ValidationError(
                _("Between 1 and %(max)d instalments.") % {"max": MAX_INSTALMENTS}
            )
        if instalments > amount_cents:
            raise ValidationError(_("More instalments than cents promised."))
        if not 0 <= every_months <= 24:
            raise ValidationError(_("Instalments come every 0 to 24 months."))
        promise.instalments.all().delete()
        for number, (due_on, part) in enumerate(
            schedule(amount_cents, instalments, first_due_on, every_months), start=1
        ):
            Instalment.objects.create(
                network_id=promise.network_id,
                pledge=promise,
                number=number,
                due_on=due_on,
                amount_cents=part,
            )
        promise.amount_cents = amount_cents
        promise.kind = kind
        promise.save(update_fields=["amount_cents", "kind"])
        Opportunity.objects.filter(pk=promise.opportunity_id).update(amount_cents=amount_cents)
        log(promise, "wagtail.edit", user=user)
    return promise
