"""Calls (bandi): their deadline, funder, budget, private documents and status; after an
award, the reports owed. And what the periodic job and the calendar feed keep."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import Network
from crm.money import CentsField
from crm.storage import private_storage

from ..access import MembersQuerySet
from .orgs import Organisation
from .pipeline import Pledge


class Call(models.Model):
    """A call for proposals (bando) of a funder."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PREPARING = "preparing", _("Preparing the application")
        SUBMITTED = "submitted", _("Submitted")
        AWARDED = "awarded", _("Awarded")
        REJECTED = "rejected", _("Not awarded")
        CLOSED = "closed", _("Closed")

    #: A call whose deadline still matters (reminders, the calendar).
    PENDING = (Status.OPEN, Status.PREPARING)

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    title = models.CharField(_("title"), max_length=255)
    funder = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="calls", verbose_name=_("funder")
    )
    deadline = models.DateField(_("deadline"))
    budget_cents = CentsField(_("budget"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="relations_calls",
        verbose_name=_("owner"),
    )
    url = models.URLField(_("call's page"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = MembersQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")

    def __str__(self):
        return self.title


def call_document_name(document, filename):
    return f"calls/{document.call.network_id}/{uuid.uuid4().hex}-{filename[-80:]}"


class CallDocumentQuerySet(models.QuerySet):
    def for_user(self, user):
        """Documents of the calls the user reaches."""
        return self.filter(call__in=Call.objects.for_user(user))


class CallDocument(models.Model):
    """A document of a call (the call itself, the application, the budget): private, served
    only through the checked admin view."""

    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="documents", verbose_name=_("call")
    )
    title = models.CharField(_("title"), max_length=255)
    file = models.FileField(_("file"), upload_to=call_document_name, storage=private_storage)
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("uploaded at"))

    objects = CallDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self):
        return self.title


class Report(models.Model):
    """A report owed to a funder after an award, due on a day."""

    network = models.ForeignKey(
        Network, on_delete=models.PROTECT, related_name="+", verbose_name=_("network")
    )
    title = models.CharField(_("report"), max_length=255)
    call = models.ForeignKey(
        Call,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=_("call"),
    )
    pledge = models.ForeignKey(
        Pledge,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        verbose_name=_("grant"),
    )
    due_on = models.DateField(_("due on"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="relations_reports",
        verbose_name=_("owner"),
    )
    submitted_on = models.DateField(_("submitted on"), null=True, blank=True)

    objects = MembersQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("report owed")
        verbose_name_plural = _("reports owed")

    def __str__(self):
        return self.title


class Reminder(models.Model):
    """One reminder email about one deadline: its key (what, which row, which day, how many
    days before) is unique, so the periodic job sends it once however often and wherever it
    runs. `sent_at` empty: claimed and not sent yet (taken over once the claim is stale)."""

    key = models.CharField(max_length=200, unique=True)
    to = models.EmailField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")

    def __str__(self):
        return self.key


class CalendarFeed(models.Model):
    """A user's secret calendar address: only the token's SHA-256 is kept; a new token
    replaces (revokes) the old one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="relations_calendar"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self):
        return str(self.user)
