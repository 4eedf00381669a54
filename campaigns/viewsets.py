"""The Stripe event log in the admin (CRM menu): what Stripe told us, and "apply again"."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from crm import extensions
from crm.admin.common import ActionsInspectView, ScopedModelViewSet
from crm.tenancy import network_view, reached, register_network_policy

from .models import StripeEvent
from .webhooks import apply_stored

register_network_policy(StripeEvent)


class StripeEventInspectView(ActionsInspectView):
    def get_actions(self):
        if not self.request.user.is_superuser:
            return []
        url = reverse("campaigns_stripeevent:apply_again", args=[self.object.pk])
        return [(_("Apply again"), url, "post")]


@network_view(StripeEvent, "view")
@require_POST
def apply_again(request, pk):
    """Apply a stored event again (the replay log): a failed one is retried, one already applied
    is left as it is, exactly as a repeated delivery from Stripe would be."""
    if not request.user.is_superuser:
        raise PermissionDenied
    event = get_object_or_404(reached(request.user, StripeEvent, "view"), pk=pk)
    outcome = apply_stored(event.payload)
    event.refresh_from_db()
    if outcome == StripeEvent.Outcome.FAILED:
        messages.error(request, _("The event failed again: %(error)s") % {"error": event.error})
    else:
        messages.success(
            request, _("Event applied: %(outcome)s.") % {"outcome": event.get_outcome_display()}
        )
    return redirect("campaigns_stripeevent:inspect", event.pk)


class StripeEventViewSet(ScopedModelViewSet):
    model = StripeEvent
    icon = "code"
    menu_label = _("Stripe events")
    empty_message = _("No Stripe events yet.")
    menu_hook = extensions.CRM_MENU  # in the CRM menu, after the core's screens
    menu_order = 900
    list_display = ["type", "event_id", "network", "received_at", "outcome"]
    list_filter = ["outcome", "type"]
    list_export = ["event_id", "type", "network", "received_at", "processed_at", "outcome"]
    export_filename = "eventi-stripe"
    url_names = {"index", "index_results", "inspect"}
    inspect_view_class = StripeEventInspectView

    def get_extra_urlpatterns(self):
        return [path("<int:pk>/apply-again/", apply_again, name="apply_again")]
