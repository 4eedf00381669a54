"""The id of the request being served, on every log record (LOGGING's `request_id` filter).

`ops.middleware.RequestIdMiddleware` sets it for the duration of a request; outside a request
(task workers, the scheduler, commands) it is "-".
"""

import contextvars
import logging

current_request_id = contextvars.ContextVar("current_request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current_request_id.get()
        return True
