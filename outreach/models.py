"""A segment: a saved, named filter over one network's donors (`outreach.segments.members`)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.models import Network
from crm.models.network import NetworkScopedQuerySet
from crm.money import CentsField

from .access import networks_for


class SegmentQuerySet(NetworkScopedQuerySet):
    def for_user(self, user):
        """Segments of the networks the user reaches as treasurer or communicator."""
        return self.filter(network__in=networks_for(user))


class Segment(models.Model):
    class Plan(models.TextChoices):
        ACTIVE = "active", _("Has an active recurring plan")
        LAPSED = "lapsed", _("Had a recurring plan, none active now")

    class Consent(models.TextChoices):
        CONSENTED = "consented", _("Confirmed the newsletter")
        NOT_CONSENTED = "not_consented", _("Did not confirm the newsletter")

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="segments", verbose_name=_("network")
    )
    name = models.CharField(_("name"), max_length=200)
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("gave to campaign"),
    )
    gave_in_year = models.PositiveSmallIntegerField(_("gave in year"), null=True, blank=True)
    not_given_in_year = models.PositiveSmallIntegerField(
        _("did not give in year"), null=True, blank=True
    )
    lybunt = models.BooleanField(
        _("LYBUNT"),
        default=False,
        help_text=_("Gave last year but not (yet) this year."),
    )
    sybunt = models.BooleanField(
        _("SYBUNT"),
        default=False,
        help_text=_("Gave some year before last, but neither last year nor this year."),
    )
    first_time = models.BooleanField(
        _("first-time donors"),
        default=False,
        help_text=_("Their first gift is of this year."),
    )
    plan = models.CharField(_("recurring plan"), max_length=10, choices=Plan, blank=True)
    min_total_cents = CentsField(
        _("given at least"),
        null=True,
        blank=True,
        help_text=_("Total given (net of refunds), in the year above if one is set."),
    )
    max_total_cents = CentsField(_("given at most"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, blank=True)
    consent = models.CharField(_("newsletter"), max_length=15, choices=Consent, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["network", "name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_total_cents__isnull=True)
                | Q(max_total_cents__isnull=True)
                | Q(max_total_cents__gte=F("min_total_cents")),
                name="segment_amount_range",
            )
        ]

    def __str__(self):
        return self.name
