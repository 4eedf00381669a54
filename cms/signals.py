from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from crm.tenancy import sync_page_grants

from . import pagecache
from .models import NetworkPage


@receiver(post_save, sender=NetworkPage, dispatch_uid="cms.grant_network_page")
def network_page_saved(sender, instance, raw=False, **kwargs):
    """Communicators' rights follow the network the page has in the database: saving a
    revision saves the page object it was edited on (whose `network` may be a draft's), so
    the stored value, not the in-memory one, decides."""
    if raw:
        return
    stored = NetworkPage.objects.filter(pk=instance.pk).select_related("network").first()
    if stored is not None:
        sync_page_grants(stored.network, stored)


# Cached public pages show the published tree: a change to it makes every cached page stale
# (menus, listings and a network's campaigns show other pages). Not on the money path.
page_published.connect(pagecache.bump_content_version, dispatch_uid="cms.pagecache_published")
page_unpublished.connect(pagecache.bump_content_version, dispatch_uid="cms.pagecache_unpublished")
post_page_move.connect(pagecache.bump_content_version, dispatch_uid="cms.pagecache_moved")
post_delete.connect(
    pagecache.bump_content_version, sender=Page, dispatch_uid="cms.pagecache_deleted"
)
# A page put behind a password or a login (or its restriction lifted) is served from the cache
# no longer: `mark_page` stores no restricted page, and its copy stored before goes stale now,
# not PAGE_CACHE_SECONDS later.
for _signal in (post_save, post_delete):
    _signal.connect(
        pagecache.bump_content_version,
        sender=PageViewRestriction,
        dispatch_uid=f"cms.pagecache_restricted_{_signal is post_save}",
    )
