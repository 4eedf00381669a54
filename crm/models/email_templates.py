"""A network's own wording of an email to its donors (crm.email_templates)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .network import Network, NetworkScopedQuerySet
from .receipts import DonorEmail


class EmailTemplateQuerySet(NetworkScopedQuerySet):
    def for_user(self, user):
        """Templates of the networks the user is a treasurer or a communicator of."""
        if user.is_authenticated and user.is_active and user.is_superuser:
            return self
        networks = Network.objects.for_user(user) | Network.objects.edited_by(user)
        return self.filter(network__in=networks)


class EmailTemplate(models.Model):
    """The subject and body a network sends for one kind of email in one language, edited by
    its communicators and treasurers (Settings → Emails to donors). Plain text with
    placeholders such as `{nome}` (crm.email_templates.PLACEHOLDERS), replaced by plain
    substitution: no template code runs. Without one, the default wording in
    `templates/emails/<kind>.txt` is sent."""

    class Language(models.TextChoices):
        ITALIAN = "it", _("Italian")
        ENGLISH = "en", _("English")

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="email_templates")
    kind = models.CharField(_("email"), max_length=20, choices=DonorEmail.Kind)
    language = models.CharField(_("language"), max_length=2, choices=Language, default="it")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    updated_at = models.DateTimeField(auto_now=True)

    objects = EmailTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["network", "kind", "language"]
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        constraints = [
            models.UniqueConstraint(
                fields=["network", "kind", "language"], name="one_template_per_kind_language"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_language_display()})"
