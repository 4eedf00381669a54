"""The communicators' moderation of personal pages: the list (waiting first), and each page
with its history, its gifts' figure, and approve / hide / close / edit. Through
`crm.tenancy.network_view`: a user sees only their networks' pages."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from crm.money import EuroField
from crm.tenancy import network_view, reached

from . import fundraiser_photos, fundraisers
from .fundraiser_models import Fundraiser


class EditForm(forms.ModelForm):
    goal_cents = EuroField(label=_("Goal (euros)"), max_cents=10_000_000)

    class Meta:
        model = Fundraiser
        fields = ["title", "story", "goal_cents", "photo_alt"]


@network_view(Fundraiser)
def index(request):
    pages = reached(request.user, Fundraiser).select_related("campaign", "team")
    order = {"pending": 0, "approved": 1, "hidden": 2, "unconfirmed": 3, "closed": 4}
    rows = sorted(pages.order_by("-created_at")[:500], key=lambda p: order.get(p.status, 9))
    return TemplateResponse(request, "events/admin/fundraisers.html", {"pages": rows})


@network_view(Fundraiser, pk=Fundraiser)
def detail(request, pk):
    page = get_object_or_404(reached(request.user, Fundraiser), pk=pk)
    form = EditForm(instance=page)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in fundraisers.MODERATION:
            if fundraisers.moderate(page.pk, action, by=request.user.get_username()):
                messages.success(request, _("Done."))
            else:
                messages.error(request, _("The page is not in a state that allows this."))
            return redirect("events_fundraiser", pk=page.pk)
        if action == "edit":
            form = EditForm(request.POST, instance=Fundraiser.objects.get(pk=page.pk))
            if form.is_valid():
                fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
                fundraisers.edit(page, by=request.user.get_username(), **fields)
                messages.success(request, _("Page saved."))
                return redirect("events_fundraiser", pk=page.pk)
    return TemplateResponse(
        request,
        "events/admin/fundraiser.html",
        {
            "fundraiser": page,
            "form": form,
            "history": page.history.all(),
            "figures": fundraisers.raised(page),
        },
    )


@network_view(Fundraiser, pk=Fundraiser)
def photo(request, pk):
    """The photo as sent, for the page's network to see before approving it."""
    page = get_object_or_404(reached(request.user, Fundraiser), pk=pk)
    if not page.photo:
        raise Http404
    return fundraiser_photos.photo_response(page, cache_control="private, no-store")
