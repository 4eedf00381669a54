"""anymail's webhooks (mounted at /crm/anymail/ by `crm.urls`), each made strict about what it
reads: a payload anymail cannot parse (not JSON, a list or a string where an object goes) or
one carrying a NUL character (PostgreSQL refuses it in a query) is a 400, never a 500. The
provider signs its posts (basic auth), so only a broken or forged sender gets here; a 500 would
make the provider retry it forever. A provider this site is not set up for (its signing key
missing) is a 404: nothing of ours is there. Errors past parsing, in our receivers
(`crm.mail_tracking`, `outreach.tracking`), stay 500s: the provider retries those, as it should."""

import functools
import logging

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.urls import URLPattern

logger = logging.getLogger(__name__)


class MalformedPayload(SuspiciousOperation):
    """Django answers it with a 400 (and logs it as a security warning)."""


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return any(_has_nul(item) for item in value)
    return False


def strict(view_class):
    class StrictWebhookView(view_class):
        def parse_events(self, request):
            try:
                events = list(super().parse_events(request))
            except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
                raise MalformedPayload("The webhook's payload cannot be read.") from error
            for event in events:
                fields = (event.message_id, event.event_id, event.metadata, event.tags)
                if _has_nul([getattr(event, "recipient", None), *fields]):
                    raise MalformedPayload("The webhook's payload carries a NUL character.")
            return events

    StrictWebhookView.__name__ = StrictWebhookView.__qualname__ = f"Strict{view_class.__name__}"
    return StrictWebhookView


def configured_only(view):
    """anymail checks a provider's settings when its webhook is called: not set up here, a 404
    (logged, for whoever set the webhook up at the provider), not a 500."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailConfigurationError as error:
            logger.warning("mail webhook %s called but not set up: %s", request.path, error)
            raise Http404("This mail provider is not set up.") from error

    return wrapper


def _strict_pattern(pattern):
    view = pattern.callback
    callback = strict(view.view_class).as_view(**getattr(view, "view_initkwargs", {}))
    callback = configured_only(callback)
    return URLPattern(pattern.pattern, callback, pattern.default_args, pattern.name)


urlpatterns = [_strict_pattern(pattern) for pattern in anymail_urls.urlpatterns]
app_name = anymail_urls.app_name
