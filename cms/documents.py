"""The networks' documents (reports, leaflets, forms) and who may download one.

Wagtail keeps documents on the public media storage, where anyone who learns a file's name
downloads it under /media/ whatever Wagtail's serve view would have checked. Trama's document
model keeps the files on the private storage (`crm.storage`, the receipts' storage: no public
URL), so Wagtail's serve view (`WAGTAILDOCS_SERVE_METHOD = "serve_view"`) is the only way out,
and `check_document_download` (a `before_serve_document` hook) decides there:
- a document used by a live page open to the public (Wagtail's reference index says which
  pages use it) is public, as the page that links it;
- anything else (a draft's attachment, a file not used yet) is served only to those who work
  in its collection (the network's communicators) and to superusers; others get a 404, as if
  it did not exist.
Wagtail's collection privacy (Settings → Collections → Privacy) still applies on top.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail.documents.models import AbstractDocument, Document
from wagtail.models import Page, ReferenceIndex
from wagtail.permissions import policy_registry

from crm.storage import private_storage


class NetworkDocument(AbstractDocument):
    """A document of a network's collection, uploaded by its communicators in Documents and
    linked from its pages. Stored privately; downloaded only through Wagtail's serve view."""

    file = models.FileField(upload_to="documents", storage=private_storage, verbose_name=_("file"))

    admin_form_fields = Document.admin_form_fields

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")


def used_by_a_public_page(document):
    """True if a live page that anyone may view uses the document (as the page is stored,
    that is as published: a draft's links are in its revisions, not in the index)."""
    page_type = ContentType.objects.get_for_model(Page)
    page_ids = (
        ReferenceIndex.get_references_to(document)
        .filter(base_content_type=page_type)
        .values_list("object_id", flat=True)
    )
    return Page.objects.live().public().filter(pk__in=[int(pk) for pk in page_ids]).exists()


def works_in_its_collection(user, document):
    if not (user.is_authenticated and user.is_active):
        return False
    policy = policy_registry.get_by_type(type(document))
    return policy.user_has_any_permission_for_instance(user, ["change", "choose"], document)


def check_document_download(document, request):
    """`before_serve_document`: a 404 unless the document is public or the user works in its
    collection (see the module's docstring)."""
    if works_in_its_collection(request.user, document) or used_by_a_public_page(document):
        return None
    raise Http404
