"""Settings → Emails to donors: each network's communicators and treasurers write the subject
and body of every email to its donors, in Italian and English, with placeholders such as
`{nome}` (crm.email_templates), see a preview with sample data and send themselves a test.
A user only ever reaches the networks they are a communicator or treasurer of (404 else): the
network permission policy of `EmailTemplate` decides (`crm.tenancy`)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem

from crm import email_templates, mail_messages
from crm.models import DonorEmail, EmailTemplate
from crm.tenancy import network_view, policy_for


def networks_of(user):
    """The networks whose emails `user` may edit: theirs as treasurer or communicator."""
    return policy_for(EmailTemplate).networks_for(user)


class EmailTemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 18}))

    def _known(self, field):
        text = self.cleaned_data[field]
        unknown = email_templates.unknown_placeholders(text)
        if unknown:
            raise forms.ValidationError(
                _("Unknown placeholder: %(names)s. Use only: %(known)s."),
                code="placeholder",
                params={
                    "names": ", ".join("{%s}" % n for n in unknown),  # noqa: UP031
                    "known": ", ".join("{%s}" % n for n in email_templates.PLACEHOLDERS),  # noqa: UP031
                },
            )
        return text

    def clean_subject(self):
        return self._known("subject")

    def clean_body(self):
        return self._known("body")


class EmailsMenuItem(MenuItem):
    def is_shown(self, request):
        return policy_for(EmailTemplate).user_has_permission(request.user, "change")


def _kinds():
    return list(DonorEmail.Kind.choices)


@network_view(EmailTemplate, "change")
def index(request):
    networks = list(networks_of(request.user).order_by("name"))
    saved = {
        (t.network_id, t.kind, t.language)
        for t in EmailTemplate.objects.filter(network__in=networks)
    }
    rows = [
        {
            "network": network,
            "kinds": [
                {
                    "label": label,
                    "languages": [
                        {
                            "code": code,
                            "label": language,
                            "custom": (network.pk, kind, code) in saved,
                            "url": reverse(
                                "crm_email_templates:edit", args=[network.pk, kind, code]
                            ),
                        }
                        for code, language in EmailTemplate.Language.choices
                    ],
                }
                for kind, label in _kinds()
            ],
        }
        for network in networks
    ]
    context = {"title": _("Emails to donors"), "rows": rows}
    return TemplateResponse(request, "crm/admin/email_templates.html", context)


@network_view(EmailTemplate, "change")
def edit(request, network_id, kind, language):
    network = get_object_or_404(networks_of(request.user), pk=network_id)
    if kind not in DonorEmail.Kind.values or language not in EmailTemplate.Language.values:
        raise Http404
    own = EmailTemplate.objects.filter(network=network, kind=kind, language=language).first()
    if own is not None:
        initial = {"subject": own.subject, "body": own.body}
    else:
        subject, body = email_templates.default_text(kind, language)
        initial = {"subject": subject, "body": body}
    form = EmailTemplateForm(request.POST or None, initial=initial)
    action = request.POST.get("action", "")
    # Whose gifts the email is about, for `{ente}` and `{firma}`: one of the network's
    # entities (each email goes out for the entity that received the gift), else the lead.
    entities = list(network.entities.all())
    chosen = request.POST.get("entity", "")
    entity = next((e for e in entities if str(e.pk) == chosen), None) or next(
        (e for e in entities if e.is_lead), None
    )
    preview = None
    status = 200
    if request.method == "POST" and action == "reset":
        EmailTemplate.objects.filter(network=network, kind=kind, language=language).delete()
        messages.success(request, _("Back to the default wording."))
        return redirect("crm_email_templates:edit", network.pk, kind, language)
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif action == "save":
            EmailTemplate.objects.update_or_create(
                network=network,
                kind=kind,
                language=language,
                defaults={
                    "subject": form.cleaned_data["subject"],
                    "body": form.cleaned_data["body"],
                },
            )
            messages.success(request, _("Email saved: the next ones are sent with this text."))
            return redirect("crm_email_templates:edit", network.pk, kind, language)
        elif action == "test":
            if not request.user.email:
                form.add_error(None, _("Your account has no email address to send the test to."))
                status = 400
            else:
                mail_messages.send_test_email(
                    network,
                    language,
                    form.cleaned_data["subject"],
                    form.cleaned_data["body"],
                    request.user.email,
                    entity=entity,
                )
                messages.success(
                    request,
                    _("Test sent to %(email)s, with sample data.") % {"email": request.user.email},
                )
                preview = email_templates.preview(form.cleaned_data, language, network, entity)
        else:
            preview = email_templates.preview(form.cleaned_data, language, network, entity)
    context = {
        "title": _("Emails to donors"),
        "network": network,
        "kind_label": DonorEmail.Kind(kind).label,
        "language_label": EmailTemplate.Language(language).label,
        "form": form,
        "preview": preview,
        "entities": entities if len(entities) > 1 else [],
        "entity": entity,
        "custom": own is not None,
        "placeholders": [("{%s}" % n, h) for n, h in email_templates.PLACEHOLDERS.items()],  # noqa: UP031
    }
    return TemplateResponse(request, "crm/admin/email_template_edit.html", context, status=status)


urlpatterns = [
    path("", index, name="index"),
    path("<int:network_id>/<str:kind>/<str:language>/", edit, name="edit"),
]


def menu_item():
    return EmailsMenuItem(
        _("Emails to donors"),
        reverse("crm_email_templates:index"),
        name="emails-to-donors",
        icon_name="mail",
        order=640,
    )
