"""Wagtail's history log, scoped by tenant: who may read which entry of the site history.

Wagtail logs every non-page object (donors, gifts, receipts, images, documents...) as a
`ModelLogEntry` and shows an entry to anyone holding any model permission on its type: so a
treasurer (who holds `crm.view_donor`) would read every network's donors in Reports → Site
history. `TenantLogEntry` is the same table (a proxy) with a manager that answers Wagtail's
`viewable_by_user` row by row. `crm.wagtail_hooks` registers it, through Wagtail's
`register_log_actions` hook, as the log model of every non-page object, in place of
`ModelLogEntry`. Page entries stay with Wagtail's `PageLogEntry` (already scoped to the
pages a user may explore).
"""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from wagtail.models import CollectionMember, ModelLogEntry
from wagtail.models.audit_log import ModelLogEntryManager
from wagtail.permissions import policy_registry

# What having a Wagtail object's collection permission lets one read of its history.
COLLECTION_ACTIONS = ("change", "delete", "choose")
# What being allowed on a network-scoped row lets one read of its history (crm.tenancy).
HISTORY_ACTIONS = ("view", "add", "change", "delete")


def _has_model_permission(user, content_type):
    """Wagtail's own rule for a log entry's type: the user holds any permission on it."""
    codenames = Permission.objects.filter(content_type=content_type).values_list(
        "codename", flat=True
    )
    return any(user.has_perm(f"{content_type.app_label}.{name}") for name in codenames)


def _rows_user_may_see(model, user, has_model_permission):
    """The rows of `model` whose history `user` may read; None: all of them."""
    manager = model._default_manager
    policy = policy_registry.get_by_type(model, fallback=False)
    if hasattr(manager, "for_user") and hasattr(policy, "networks_for"):
        # A model with a network permission policy (crm.tenancy): whatever permissions the
        # policy asks (a 5 per mille year or a gift in kind: the gifts'), the rows it reaches.
        return policy.instances_user_has_any_permission_for(user, HISTORY_ACTIONS)
    if hasattr(manager, "for_user"):
        # The tenancy convention (crm.models): rows of the user's networks, and only for
        # those who hold a permission on the model at all.
        return manager.for_user(user) if has_model_permission else manager.none()
    if issubclass(model, CollectionMember):
        # Images and documents: those of the collections the user works in.
        return policy_registry.get_by_type(model).instances_user_has_any_permission_for(
            user, COLLECTION_ACTIONS
        )
    if model._meta.app_label == "crm":
        # A CRM row that cannot say its network (e.g. an email to a donor): superusers only.
        return manager.none()
    return None if has_model_permission else manager.none()


class TenantLogEntryManager(ModelLogEntryManager):
    def viewable_by_user(self, user):
        if user.is_active and user.is_superuser:
            return self.all()
        used = self.order_by().values_list("content_type_id", flat=True).distinct()
        visible = Q(pk__in=[])
        for content_type_id in used:
            content_type = ContentType.objects.get_for_id(content_type_id)
            model = content_type.model_class()
            if model is None:  # the model is gone: so is whatever it could tell
                continue
            rows = _rows_user_may_see(model, user, _has_model_permission(user, content_type))
            if rows is None:
                visible |= Q(content_type_id=content_type_id)
            else:
                ids = rows.order_by().annotate(_log_id=Cast("pk", CharField())).values("_log_id")
                visible |= Q(content_type_id=content_type_id, object_id__in=ids)
        return self.filter(visible)


class TenantLogEntry(ModelLogEntry):
    """A history entry about a non-page object (the `ModelLogEntry` table), readable by those
    who may see that object: a CRM row by its network's treasurers, an image or document by
    those who work in its collection, anything else by Wagtail's model-permission rule.
    Entries of deleted CRM rows can no longer say their network: superusers only."""

    objects = TenantLogEntryManager()

    class Meta:
        proxy = True
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
