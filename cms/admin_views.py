"""Wagtail's own page and media screens, held to what the user may see.

What a person may see of the pages is what Wagtail's page permission policy lets them explore
(`explorable_instances`: their network's subtree and its ancestors; everything for
superusers); of images and documents, what their collection permissions reach. Wagtail
already scopes its explorer, page search, page reports and media listings so; this module
covers the screens that do not:
- the page chooser and its search (`construct_page_chooser_queryset`), its browse view
  opened on a page one may not see, and its "chosen" step that echoes page titles by id;
- the page types usage report (counts and last edited page of every page of the install);
- the admin API's images and documents (`construct_admin_api`): every collection's files;
- bulk-action confirmations (`register_bulk_action`), which listed the titles of whatever
  ids were asked for.
`cms.wagtail_hooks` registers the hooks; `cms.admin_urls` mounts the views on Wagtail's own
addresses.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.http import Http404
from wagtail.admin.views.chooser import BrowseView, ChosenMultipleView
from wagtail.admin.views.pages.bulk_actions.delete import DeleteBulkAction as PageDelete
from wagtail.admin.views.pages.bulk_actions.move import MoveBulkAction as PageMove
from wagtail.admin.views.pages.bulk_actions.publish import PublishBulkAction as PagePublish
from wagtail.admin.views.pages.bulk_actions.unpublish import UnpublishBulkAction as PageUnpublish
from wagtail.admin.views.pages.search import SearchView as PageSearchView
from wagtail.admin.views.reports.aging_pages import AgingPagesView
from wagtail.admin.views.reports.locked_pages import LockedPagesView
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.admin.views.reports.workflows import WorkflowTasksView, WorkflowView
from wagtail.documents.api.admin.views import DocumentsAdminAPIViewSet
from wagtail.documents.views.bulk_actions.add_tags import AddTagsBulkAction as DocumentTags
from wagtail.documents.views.bulk_actions.add_to_collection import (
    AddToCollectionBulkAction as DocumentCollection,
)
from wagtail.documents.views.bulk_actions.delete import DeleteBulkAction as DocumentDelete
from wagtail.images.api.admin.views import ImagesAdminAPIViewSet
from wagtail.images.views.bulk_actions.add_tags import AddTagsBulkAction as ImageTags
from wagtail.images.views.bulk_actions.add_to_collection import (
    AddToCollectionBulkAction as ImageCollection,
)
from wagtail.images.views.bulk_actions.delete import DeleteBulkAction as ImageDelete
from wagtail.models import Page
from wagtail.permissions import policy_registry

from crm.exports import ReadersExport, neutralise
from crm.validators import row_id

# What working in a collection means for seeing its images and documents.
MEDIA_ACTIONS = ("change", "choose")


def pages_visible_to(user):
    """The pages the user may explore, and the path down to them from the root (Wagtail drops
    those top ancestors from `explorable_instances`; a chooser still walks through them)."""
    policy = policy_registry.get_by_type(Page)
    explorable = policy.explorable_instances(user)
    top = policy.explorable_root_instance(user)
    if top is None:
        return explorable
    return explorable | Page.objects.ancestor_of(top, inclusive=True)


def media_visible_to(model, user):
    return policy_registry.get_by_type(model).instances_user_has_any_permission_for(
        user, MEDIA_ACTIONS
    )


# --- The page chooser ---------------------------------------------------------------------------


def limit_page_chooser(pages, request):
    """`construct_page_chooser_queryset`: the chooser lists and finds only visible pages."""
    user = request.user
    if user.is_active and user.is_superuser:
        return pages
    # A list, not a subquery: the chooser's search runs this filter in the search backend.
    return pages.filter(pk__in=list(pages_visible_to(user).values_list("pk", flat=True)))


class ScopedBrowseView(BrowseView):
    """The chooser opened on a page: a 404 unless the user may see that page (its title and
    its ancestors' would show as the chooser's heading and breadcrumb)."""

    def get(self, request, parent_page_id=None):
        if parent_page_id is not None:
            page = Page.objects.filter(pk=parent_page_id).first()
            visible = pages_visible_to(request.user).filter(pk=parent_page_id).exists()
            if page is None or not (visible or page.is_root()):
                raise Http404
        return super().get(request, parent_page_id)


class ScopedChosenMultipleView(ChosenMultipleView):
    """The chooser's last step echoes each chosen page's title: only visible ones."""

    def get(self, request):
        wanted = [pk for pk in map(row_id, request.GET.getlist("id")) if pk]
        visible = pages_visible_to(request.user).filter(pk__in=wanted)
        request.GET = request.GET.copy()
        request.GET.setlist("id", [str(pk) for pk in visible.values_list("pk", flat=True)])
        return super().get(request)


# --- Reports ------------------------------------------------------------------------------------


class ScopedPageTypesUsageView(PageTypesUsageReportView):
    """Page types usage, counted over the pages the user may see (Wagtail counts all)."""

    def get_queryset(self):
        visible = pages_visible_to(self.request.user).filter(depth__gt=1)
        self.queryset = ContentType.objects.filter(pk__in=visible.values("content_type_id"))
        queryset = self.filter_queryset(self.queryset)
        chosen = self.filters.form.cleaned_data if self.filters else {}
        pages = visible
        if chosen.get("page_locale"):
            pages = pages.filter(locale__language_code=chosen["page_locale"])
        if chosen.get("site"):
            pages = pages.filter(path__startswith=chosen["site"])
        last_edited = pages.filter(content_type=OuterRef("pk")).order_by(
            F("latest_revision_created_at").desc(nulls_last=True), "title", "-pk"
        )
        return queryset.annotate(
            count=Count("pages", filter=Q(pages__in=pages.values("pk"))),
            last_edited_page_id=Subquery(last_edited.values("pk")[:1]),
        ).order_by("-count", "app_label", "model")


# --- The admin API ------------------------------------------------------------------------------


class ScopedImagesAPIViewSet(ImagesAdminAPIViewSet):
    def get_queryset(self):
        visible = media_visible_to(self.model, self.request.user)
        return super().get_queryset().filter(pk__in=visible.values("pk"))


class ScopedDocumentsAPIViewSet(DocumentsAdminAPIViewSet):
    def get_queryset(self):
        visible = media_visible_to(self.model, self.request.user)
        return super().get_queryset().filter(pk__in=visible.values("pk"))


def scope_admin_api(router):
    """`construct_admin_api` (after Wagtail's own): the same endpoints, scoped."""
    router.register_endpoint("images", ScopedImagesAPIViewSet)
    router.register_endpoint("documents", ScopedDocumentsAPIViewSet)


# --- Bulk actions -------------------------------------------------------------------------------


class OnlyVisibleObjects:
    """Ids of objects the user may not see are dropped, as if they had not been sent: the
    confirmation lists none of their titles and the action touches none of them."""

    def visible_objects(self):
        if issubclass(self.model, Page):
            return pages_visible_to(self.request.user)
        return media_visible_to(self.model, self.request.user)

    def get_actionable_objects(self):
        objects, extra = super().get_actionable_objects()
        refused = extra.get("items_with_no_access", [])
        asked = [obj.pk for obj in [*objects, *refused]]
        visible = set(self.visible_objects().filter(pk__in=asked).values_list("pk", flat=True))
        extra["items_with_no_access"] = [obj for obj in refused if obj.pk in visible]
        return [obj for obj in objects if obj.pk in visible], extra


def _scoped(action_class):
    model = action_class.models[0]._meta.model_name.title()
    name = f"Scoped{model}{action_class.__name__}"
    return type(name, (OnlyVisibleObjects, action_class), {"__module__": __name__})


SCOPED_BULK_ACTIONS = [
    _scoped(action_class)
    for action_class in (
        PageDelete,
        PageMove,
        PagePublish,
        PageUnpublish,
        ImageTags,
        ImageCollection,
        ImageDelete,
        DocumentTags,
        DocumentCollection,
        DocumentDelete,
    )
]


class NamedPageSearchView(PageSearchView):
    """Wagtail 8's page search names nothing for its table's count to name: "1-6 of 6 None".
    The explorer's words for a page, "pagina"/"pagine", as the explorer says them."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["verbose_name"] = Page._meta.verbose_name
        context["verbose_name_plural"] = Page._meta.verbose_name_plural
        return context


class NeutralisedExport(ReadersExport):
    """A Wagtail report whose CSV and XLSX exports neutralise text a spreadsheet would run as
    a formula (page titles and names are typed by communicators and donors), as every CRM
    export does (`crm.exports.neutralise`)."""

    custom_value_preprocess = {
        **AgingPagesView.custom_value_preprocess,
        str: {AgingPagesView.FORMAT_CSV: neutralise, AgingPagesView.FORMAT_XLSX: neutralise},
    }


class NeutralisedAgingPagesView(NeutralisedExport, AgingPagesView):
    pass


class NeutralisedLockedPagesView(NeutralisedExport, LockedPagesView):
    pass


class NeutralisedWorkflowView(NeutralisedExport, WorkflowView):
    pass


class NeutralisedWorkflowTasksView(NeutralisedExport, WorkflowTasksView):
    pass
