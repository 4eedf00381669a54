"""The network page's edit form: which network a page tells the story of is the tenancy of
everything under it (campaigns, and so the gifts and donors they bring), so only a superuser
sets or changes it."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm

from crm.tenancy import move_page_to_network

ONLY_SUPERUSERS = _("Only an administrator can assign a page to a network.")


class NetworkPageForm(WagtailAdminPageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "network" in self.fields and not self._may_assign_network():
            self.fields["network"].disabled = True
            self.fields["network"].help_text = ONLY_SUPERUSERS

    def _may_assign_network(self):
        user = self.for_user
        return user is not None and user.is_active and user.is_superuser

    def _stored_network_id(self):
        """The network the page has now (in the database, not in a revision being edited)."""
        if self.instance.pk is None:
            return None
        return (
            type(self.instance)
            .objects.filter(pk=self.instance.pk)
            .values_list("network_id", flat=True)
            .first()
        )

    def clean(self):
        cleaned_data = super().clean()
        if "network" not in self.fields or self._may_assign_network():
            return cleaned_data
        # A disabled field ignores what is posted: a crafted POST (or a revision carrying
        # another network, e.g. a revert) is refused out loud rather than silently dropped.
        stored = self._stored_network_id()
        posted = self.data.get(self.add_prefix("network"))
        chosen = cleaned_data.get("network")
        if (
            stored is None
            or posted not in (None, "", str(stored))
            or (chosen is not None and chosen.pk != stored)
        ):
            self.add_error("network", ONLY_SUPERUSERS)
        return cleaned_data

    def save(self, commit=True):
        stored = self._stored_network_id()
        page = super().save(commit=commit)
        # A superuser's change applies at once (a draft or a publish alike): the network is
        # the page's tenancy, not revisioned content (`NetworkPage.with_content_json`).
        if self._may_assign_network() and stored is not None and stored != page.network_id:
            move_page_to_network(page, page.network, user=self.for_user)
        return page
