"""The admin home's panels: instalments due and late (of the user's networks), and the user's
own open tasks."""

from django.template.loader import render_to_string
from django.urls import reverse
from wagtail.admin.ui.components import Component

from crm.display import format_date
from crm.money import fiscal_today, format_amount
from crm.tenancy import policy_for

from ..figures import due_and_late
from ..models import Instalment, Task


class InstalmentsPanel(Component):
    name = "relations_instalments"
    order = 60
    template_name = "relations/admin/instalments_panel.html"

    def __init__(self, networks):
        self.networks = networks

    def render_html(self, parent_context=None):
        today = fiscal_today()
        late, due = due_and_late(self.networks, today)

        def row(i):
            return {
                "ask": i.pledge.opportunity.title,
                "organisation": i.pledge.opportunity.organisation or "—",
                "number": i.number,
                "due_on": format_date(i.due_on),
                "amount": format_amount(i.amount_cents),
                "url": reverse("relations_opportunity:inspect", args=[i.pledge.opportunity_id]),
            }

        context = {
            "late": [row(i) for i in late],
            "due": [row(i) for i in due[:10]],
            "due_count": len(due),
            "late_total": format_amount(sum(i.amount_cents for i in late)),
            "due_total": format_amount(sum(i.amount_cents for i in due)),
        }
        return render_to_string(self.template_name, context)


class MyTasksPanel(Component):
    name = "relations_my_tasks"
    order = 61
    template_name = "relations/admin/my_tasks_panel.html"

    def __init__(self, tasks):
        self.tasks = tasks

    def render_html(self, parent_context=None):
        today = fiscal_today()
        rows = [
            {
                "title": t.title,
                "due_on": format_date(t.due_on),
                "late": t.due_on < today,
                "url": reverse("relations_task:edit", args=[t.pk]),
            }
            for t in self.tasks[:15]
        ]
        return render_to_string(self.template_name, {"tasks": rows})


def relations_panels(request):
    user = request.user
    panels = []
    tasks = policy_for(Task)
    if tasks.user_has_permission(user, "view"):
        mine = tasks.scope(Task.objects.filter(owner=user, done=False), user).order_by("due_on")
        if mine.exists():
            panels.append(MyTasksPanel(mine))
    instalments = policy_for(Instalment)
    if instalments.user_has_permission(user, "view"):
        networks = instalments.networks_for(user)
        if Instalment.objects.filter(network__in=networks, donation=None).exists():
            panels.append(InstalmentsPanel(networks))
    return panels
