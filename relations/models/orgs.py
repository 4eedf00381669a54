"""Organisations (companies, foundations, public bodies), the people around them and what
happened with them: relationships, interactions, tasks."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Donor, Network

from ..access import MembersQuerySet


class Organisation(models.Model):
    """A company, a foundation or a public body a network builds a relationship with. Its
    gifts are its crm donor record's (an organisation donor): money is counted there only."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        FOUNDATION = "foundation", _("Foundation")
        PUBLIC_BODY = "public_body", _("Public body")
        OTHER = "other", _("Other organisation")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.COMPANY)
    donor = models.OneToOneField(
        Donor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisation_profile",
        verbose_name=_("donor record"),
        help_text=_("The organisation as a donor in the CRM: its gifts are counted there."),
    )
    website = models.URLField(_("website"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = MembersQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name


class Relationship(models.Model):
    """A person (a donor record of the CRM) and an organisation: an employee, a board member,
    a contact. An employee's gifts are soft-credited to the organisation (shown in its
    relationship figures, never added to money)."""

    class Kind(models.TextChoices):
        EMPLOYEE = "employee", _("Employee of")
        BOARD_MEMBER = "board_member", _("Board member of")
        CONTACT = "contact", _("Contact at")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    person = models.ForeignKey(
        Donor, on_delete=models.CASCADE, related_name="relationships", verbose_name=_("person")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="relationships",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("relationship"), max_length=20, choices=Kind, default=Kind.EMPLOYEE)
    role = models.CharField(_("role"), max_length=150, blank=True)
    soft_credit = models.BooleanField(
        _("soft-credit their gifts"),
        default=True,
        help_text=_(
            "Their gifts count in the organisation's relationship figures (never twice in money)."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = MembersQuerySet.as_manager()

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "organisation", "kind"], name="relations_one_relationship"
            )
        ]

    def __str__(self):
        return f"{self.person} · {self.get_kind_display()} {self.organisation}"


class Interaction(models.Model):
    """A meeting, a call or an email with an organisation or a person."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        CALL = "call", _("Phone call")
        EMAIL = "email", _("Email")

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.MEETING)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("organisation"),
    )
    person = models.ForeignKey(
        Donor,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
        verbose_name=_("person"),
    )
    happened_on = models.DateField(_("date"))
    summary = models.TextField(_("summary"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )

    objects = MembersQuerySet.as_manager()

    class Meta:
        ordering = ["-happened_on", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False) | Q(person__isnull=False),
                name="relations_interaction_with_someone",
                violation_error_message=_("Choose an organisation or a person."),
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.organisation or self.person}"


class Task(models.Model):
    """Something to do by a day, owned by a user of the network."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    title = models.CharField(_("to do"), max_length=255)
    due_on = models.DateField(_("due on"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="relations_tasks",
        verbose_name=_("owner"),
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("organisation"),
    )
    done = models.BooleanField(_("done"), default=False)

    objects = MembersQuerySet.as_manager()

    class Meta:
        ordering = ["done", "due_on", "id"]
        verbose_name = _("to-do")
        verbose_name_plural = _("tasks")

    def __str__(self):
        return self.title
