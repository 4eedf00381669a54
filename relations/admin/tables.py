"""An object's page with its actions and a few tables of what hangs on it."""

from crm.admin.common import ActionsInspectView


class ActionsPage(ActionsInspectView):
    template_name = "relations/admin/inspect.html"

    def get_tables(self):
        """[(heading, column headings, rows)]."""
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tables"] = self.get_tables()
        return context
