"""The id of the request being served, on every log record (LOGGING's `request_id` filter).

`ops.middleware.RequestIdMiddleware` sets it for the duration of a request; outside a request
(task workers, the scheduler, commands) it is "-".
"""

import contextvars
import logging

current_request_id = contextvars.ContextVar("current_request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        request_id = current_request_id.get()
        if request_id == "-":
            # Django's own "django.request" line is logged after the middleware returned,
            # with the request attached.
            request_id = getattr(getattr(record, "request", None), "request_id", "-")
        record.request_id = request_id
        return True


class QuietHealthz(logging.Filter):
    """Drops Django's "Service Unavailable: /healthz" line: a red /healthz is an answer for the
    monitor, not an error of the site (what is wrong is logged once per check, as a warning);
    logged at ERROR it would page (and reach Sentry) on every poll."""

    def filter(self, record):
        request = getattr(record, "request", None)
        return not (
            getattr(record, "status_code", None) == 503
            and getattr(request, "path", None) == "/healthz"
        )
