"""Recurring plans in the admin: read-only (Stripe owns them), with history and inspect."""

from django.utils.translation import gettext_lazy as _

from crm.models import RecurringPlan

from .common import ScopedModelViewSet, donor_column


class RecurringPlanViewSet(ScopedModelViewSet):
    model = RecurringPlan
    icon = "repeat"
    menu_label = _("Recurring plans")
    list_display = ["__str__", donor_column(), "status", "failures", "started_at", "cancelled_at"]
    list_filter = ["status", "interval"]
    list_export = ["id", "donor", "amount_cents", "interval", "status", "failures", "started_at"]
    export_filename = "recurring-plans"
    url_names = {"index", "index_results", "history", "history_results", "inspect"}
