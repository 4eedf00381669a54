"""The message as the donor sees it: the admin's preview panel and the plain-text page."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.generic.preview import PreviewOnCreate, PreviewOnEdit
from wagtail.utils.decorators import xframe_options_sameorigin_override

from .message_common import LANGUAGES, user_message
from .models import Message
from .rendering import render_message


def _preview_mode(mode):
    """(language, plain text?) of a preview mode such as `it` or `en-text`."""
    language, _sep, kind = (mode or "it").partition("-")
    if language not in LANGUAGES or kind not in ("", "text"):
        raise Http404
    return language, kind == "text"


def preview_response(message, mode):
    language, plain = _preview_mode(mode)
    rendered = render_message(message, language=language)
    if plain:
        html = render_to_string(
            "outreach/message_text_preview.html", {"rendered": rendered, "language": language}
        )
        return HttpResponse(html)
    return HttpResponse(rendered.html)


class MessagePreviewMixin:
    """Wagtail's preview views (form state, validation, the panel), answering with the email
    `outreach.rendering` makes, so the model holds data only and never renders itself."""

    @method_decorator(xframe_options_sameorigin_override)
    def get(self, request, *args, **kwargs):
        form = self.get_form(self._get_form_data(self._get_form_state()))
        if not self.validate_form(form):
            return self.error_response()
        form.save(commit=False)
        if self.object.network_id is None:
            return self.error_response()
        return preview_response(self.object, request.GET.get("mode"))


class MessagePreviewOnCreate(MessagePreviewMixin, PreviewOnCreate):
    pass


class MessagePreviewOnEdit(MessagePreviewMixin, PreviewOnEdit):
    def get_object(self):
        return get_object_or_404(Message.objects.for_user(self.request.user), pk=self.kwargs["pk"])


def plain_text(request, pk):
    """The plain-text part of the email, as a donor's mail app shows it without HTML."""
    message = user_message(request, pk, "view")
    language = request.GET.get("language", "it")
    if language not in LANGUAGES:
        raise Http404
    rendered = render_message(message, language=language)
    context = {
        "title": _("Plain text: %(subject)s") % {"subject": message.subject},
        "message": message,
        "rendered": rendered,
        "language": language,
        "languages": [("it", "Italiano"), ("en", "English")],
    }
    return TemplateResponse(request, "outreach/message_plain_text.html", context)
