"""Deleting asks and organisations (refused, with its reason, while gifts pay their
instalments: `relations.removal`) and a treasurer unlinking a gift from its instalment."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from wagtail.admin.views import generic

from crm.display import format_date
from crm.money import format_amount
from crm.tenancy import network_view, reached

from .. import removal
from ..access import money_networks
from ..models import Instalment, Opportunity, Organisation, Pledge
from .forms import PledgeForm


class MoneyAwareDeleteView(generic.DeleteView):
    """The generic confirmation page; deleting goes through `relations.removal`, which
    refuses while money is linked (the page says why)."""

    @property
    def confirmation_message(self):
        return removal.refusal(self.object) or super().confirmation_message

    def form_valid(self, form):
        verb = (
            removal.delete_organisation
            if isinstance(self.object, Organisation)
            else removal.delete_opportunity
        )
        success_url = self.get_success_url()
        try:
            verb(self.object, user=self.request.user)
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return redirect(self.index_url_name.replace(":index", ":inspect"), self.object.pk)
        messages.success(self.request, self.get_success_message())
        return redirect(success_url)


@network_view(Instalment, "link")
def unlink_gift(request, pk):
    """A treasurer undoes a wrong link: the instalment is due again; the gift is untouched."""
    rows = reached(request.user, Instalment, "link")
    instalment = get_object_or_404(rows.filter(network__in=money_networks(request.user)), pk=pk)
    ask_id = instalment.pledge.opportunity_id
    if request.method == "POST":
        removal.unlink_payment(instalment, user=request.user)
        messages.success(request, _("The gift is no longer linked to the instalment."))
        return redirect("relations_opportunity:inspect", ask_id)
    title = _(
        "Unlink the gift from instalment %(number)d of %(ask)s, %(amount)s, due on %(day)s"
    ) % {
        "number": instalment.number,
        "ask": instalment.pledge.opportunity.title,
        "amount": format_amount(instalment.amount_cents),
        "day": format_date(instalment.due_on),
    }
    return TemplateResponse(request, "crm/admin/form.html", {"form": None, "title": title})


@network_view(Opportunity, "change")
def reschedule_view(request, pk):
    """Change a promise's amount and schedule while none of its instalments is paid."""
    ask = get_object_or_404(reached(request.user, Opportunity, "change"), pk=pk)
    promise = get_object_or_404(Pledge, opportunity=ask)
    first = promise.instalments.order_by("number").first()
    initial = {
        "kind": promise.kind,
        "amount": promise.amount_cents,
        "instalments": promise.instalments.count(),
        "first_due_on": first.due_on if first else None,
    }
    form = PledgeForm(request.POST or None, initial=initial)
    title = _("Change the pledge and its instalments")
    context = {"form": form, "title": title}
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                removal.reschedule(
                    promise,
                    amount_cents=data["amount"],
                    instalments=data["instalments"],
                    first_due_on=data["first_due_on"],
                    every_months=data["every_months"],
                    kind=data["kind"],
                    user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The pledge and its instalments are changed."))
                return redirect("relations_opportunity:inspect", ask.pk)
        return TemplateResponse(request, "crm/admin/form.html", context, status=400)
    return TemplateResponse(request, "crm/admin/form.html", context)
