"""Asks (opportunities) in the admin: the list, an ask's page (its stage, its promise and the
instalments, each with the gift that paid it), moving it on, pledging it with a schedule,
linking a gift to an instalment (treasurers), and the pipeline by stage against the target."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import ChoiceFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.log_actions import log

from crm.display import format_date
from crm.money import fiscal_today, format_amount
from crm.tenancy import network_view, policy_for, reached

from .. import figures, verbs
from ..access import money_networks, networks_for
from ..models import Instalment, Opportunity
from .forms import LinkGiftForm, PledgeForm, StageForm
from .removal import MoneyAwareDeleteView, reschedule_view, unlink_gift
from .tables import ActionsPage
from .viewsets import RelationsViewSet, relations_network_filter


def _url(name, pk):
    return reverse(f"relations_opportunity:{name}", args=[pk])


class OpportunityInspectView(ActionsPage):
    def get_actions(self):
        ask = self.object
        actions = []
        if policy_for(Opportunity).user_has_permission(self.request.user, "change"):
            actions.append((_("Move to another stage"), _url("stage", ask.pk), "get"))
            if not hasattr(ask, "pledge") and ask.stage != Opportunity.Stage.LOST:
                actions.append((_("Pledged: set the instalments"), _url("pledge", ask.pk), "get"))
            paid = hasattr(ask, "pledge") and ask.pledge.instalments.exclude(donation=None)
            if hasattr(ask, "pledge") and not paid.exists():
                actions.append(
                    (_("Change the pledge and its instalments"), _url("schedule", ask.pk), "get")
                )
        return actions

    def get_tables(self):
        promise = getattr(self.object, "pledge", None)
        if promise is None:
            return []
        may_link = (
            policy_for(Instalment).user_has_permission(self.request.user, "link")
            and money_networks(self.request.user).filter(pk=self.object.network_id).exists()
        )
        today = fiscal_today()
        rows = []
        for i in promise.instalments.select_related("donation"):
            if i.donation_id:
                state = _("Paid (gift of %(day)s)") % {"day": format_date(i.donation.received_on)}
                if may_link:
                    state = format_html(
                        '{} <a class="button button-small button-secondary" href="{}">{}</a>',
                        state,
                        reverse("relations_opportunity:unlink_gift", args=[i.pk]),
                        _("Unlink the gift"),
                    )
            elif may_link:
                state = format_html(
                    '<a class="button button-small button-secondary" href="{}">{}</a>',
                    reverse("relations_opportunity:link_gift", args=[i.pk]),
                    _("Link the gift that paid it"),
                )
            else:
                state = _("Late") if i.due_on < today else _("Due")
            rows.append(
                (str(i.number), format_date(i.due_on), format_amount(i.amount_cents), state)
            )
        heading = _("%(kind)s of %(amount)s: instalments") % {
            "kind": promise.get_kind_display(),
            "amount": format_amount(promise.amount_cents),
        }
        return [(heading, ["#", _("Due on"), _("Amount"), _("Paid")], rows)]


def _form_page(request, form, title, status=200):
    return TemplateResponse(
        request, "crm/admin/form.html", {"form": form, "title": title}, status=status
    )


@network_view(Opportunity, "change")
def change_stage(request, pk):
    ask = get_object_or_404(reached(request.user, Opportunity, "change"), pk=pk)
    form = StageForm(request.POST or None, opportunity=ask)
    if request.method == "POST":
        if form.is_valid():
            ask.stage = form.cleaned_data["stage"]
            ask.save(update_fields=["stage"])
            log(ask, "wagtail.edit", user=request.user)
            messages.success(request, _("Stage changed."))
            return redirect("relations_opportunity:inspect", ask.pk)
        return _form_page(request, form, _("Move to another stage"), status=400)
    return _form_page(request, form, _("Move to another stage"))


@network_view(Opportunity, "change")
def pledge_view(request, pk):
    ask = get_object_or_404(reached(request.user, Opportunity, "change"), pk=pk)
    initial = {"amount": ask.amount_cents or None, "first_due_on": ask.expected_on}
    form = PledgeForm(request.POST or None, initial=initial)
    title = _("Pledged: set the instalments")
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                verbs.pledge(
                    ask,
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
                messages.success(request, _("Pledge recorded with its instalments."))
                return redirect("relations_opportunity:inspect", ask.pk)
        return _form_page(request, form, title, status=400)
    return _form_page(request, form, title)


@network_view(Instalment, "link")
def link_gift(request, pk):
    """A treasurer ties the gift that paid an instalment to it (`verbs.link_payment`)."""
    rows = reached(request.user, Instalment, "link")
    instalment = get_object_or_404(rows.filter(network__in=money_networks(request.user)), pk=pk)
    gifts = verbs.candidate_gifts(instalment)
    form = LinkGiftForm(request.POST or None, gifts=gifts)
    title = _("Instalment %(number)d of %(ask)s, %(amount)s, due on %(day)s") % {
        "number": instalment.number,
        "ask": instalment.pledge.opportunity.title,
        "amount": format_amount(instalment.amount_cents),
        "day": format_date(instalment.due_on),
    }
    form.fields["donation"].label_from_instance = lambda g: (
        f"{format_date(g.received_on)} · {format_amount(g.amount_cents)} · "
        f"{g.get_method_display()} · {g.donor}"
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                verbs.link_payment(instalment, form.cleaned_data["donation"], user=request.user)
            except ValidationError as error:
                form.add_error("donation", error)
            else:
                messages.success(request, _("The gift is linked to its instalment."))
                return redirect("relations_opportunity:inspect", instalment.pledge.opportunity_id)
        return _form_page(request, form, title, status=400)
    return _form_page(request, form, title)


@network_view(Opportunity, "view")
def pipeline_view(request):
    networks = networks_for(request.user)
    try:
        year = int(request.GET.get("year") or fiscal_today().year)
    except ValueError:
        year = fiscal_today().year
    if not 2000 <= year <= 2100:
        year = fiscal_today().year
    result = figures.pipeline(networks, year)
    rows = [
        {
            "stage": stage,
            "label": label,
            "count": count,
            "amount": format_amount(amount),
            "weighted": format_amount(value),
            "url": f"{reverse('relations_opportunity:index')}?stage={stage}",
        }
        for stage, label, count, amount, value in result.stages
    ]
    return TemplateResponse(
        request,
        "relations/admin/pipeline.html",
        {
            "title": _("Pipeline %(year)d") % {"year": year},
            "rows": rows,
            "year": year,
            "forecast": format_amount(result.forecast),
            "target": format_amount(result.target) if result.target else "",
            "percent": result.percent_of_target,
            "received": format_amount(result.received),
        },
    )


class OpportunityFilterSet(WagtailFilterSet):
    network = relations_network_filter()
    stage = ChoiceFilter(choices=Opportunity.Stage.choices, label=gettext_lazy("Stage"))

    class Meta:
        model = Opportunity
        fields = ["network", "stage"]


class OpportunityViewSet(RelationsViewSet):
    """Asks; their stage moves on their page (pledged comes with its schedule)."""

    model = Opportunity
    icon = "pick"
    menu_label = gettext_lazy("Opportunities")
    empty_message = gettext_lazy("No asks yet.")
    url_names = {
        "index",
        "index_results",
        "add",
        "edit",
        "delete",
        "history",
        "history_results",
        "inspect",
    }
    delete_view_class = MoneyAwareDeleteView
    inspect_view_class = OpportunityInspectView
    filterset_class = OpportunityFilterSet
    search_fields = ["title"]
    form_fields = [
        "network",
        "title",
        "organisation",
        "donor",
        "amount_cents",
        "probability",
        "expected_on",
        "owner",
        "campaign",
        "notes",
    ]
    list_display = ["title", "stage", "amount_cents", "probability", "expected_on", "owner"]

    def get_extra_urlpatterns(self):
        return [
            path("<int:pk>/stage/", change_stage, name="stage"),
            path("<int:pk>/pledge/", pledge_view, name="pledge"),
            path("instalment/<int:pk>/link/", link_gift, name="link_gift"),
            path("instalment/<int:pk>/unlink/", unlink_gift, name="unlink_gift"),
            path("<int:pk>/schedule/", reschedule_view, name="schedule"),
            path("pipeline/", pipeline_view, name="pipeline"),
        ]
