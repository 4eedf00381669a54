"""The donor wall's moderation screen (admin menu → Donor wall): a network's communicators see
the names donors asked to show on their campaigns and approve or hide each one. Nothing is
published before a decision; another network's gifts are never listed nor decidable (404)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin.menu import MenuItem

from cms import pagecache
from crm.models import Donation, Network

from .models import WallName, invalidate_progress

LISTED = 200


def _gifts(user):
    """Gifts on campaigns of the user's networks whose donor asked to be named."""
    return (
        Donation.objects.succeeded()
        .filter(
            network__in=Network.objects.edited_by(user),
            campaign__isnull=False,
            anonymous=False,
            donor__isnull=False,
        )
        .exclude(donor__first_name="")
        .select_related("donor", "campaign", "wall_name")
    )


def moderation(request):
    if not Network.objects.edited_by(request.user).exists():
        raise PermissionDenied
    gifts = _gifts(request.user).order_by("-received_on", "-id")
    return TemplateResponse(
        request,
        "campaigns/admin/donor_wall.html",
        {
            "waiting": gifts.filter(wall_name__isnull=True)[:LISTED],
            "decided": gifts.filter(wall_name__isnull=False)[:LISTED],
        },
    )


@require_POST
def decide(request, donation_id):
    """Approve (`decision=approve`) or hide (`decision=hide`) one name."""
    donation = get_object_or_404(_gifts(request.user), pk=donation_id)
    approved = request.POST.get("decision") == "approve"
    with transaction.atomic():
        WallName.objects.update_or_create(
            donation=donation,
            defaults={
                "approved": approved,
                "decided_by": request.user,
                "decided_at": timezone.now(),
            },
        )
    invalidate_progress(donation.campaign_id)
    # The wall is written in the campaign page: a decision shows at once, as a publish does.
    pagecache.bump_content_version()
    if approved:
        messages.success(request, _("%(name)s is shown on the donor wall.") % _named(donation))
    else:
        messages.success(request, _("%(name)s is not shown on the donor wall.") % _named(donation))
    return redirect("campaigns_donor_wall")


def _named(donation):
    return {"name": donation.donor.first_name}


class DonorWallMenuItem(MenuItem):
    def is_shown(self, request):
        return Network.objects.edited_by(request.user).exists()
