"""A mail provider that is down for a while: anymail's own test backend (the real anymail send
path, status and message ids) that raises an anymail API error for the first `failures` sends.
The only fake in these tests: the provider's outage."""

import itertools

from anymail.backends.test import EmailBackend as AnymailTestBackend
from anymail.exceptions import AnymailAPIError


class FlakyBackend(AnymailTestBackend):
    failures = 0  # set by the test; counts down across connections
    attempts = 0
    _ids = itertools.count(1)

    def get_esp_message_id(self, message):
        return f"esp-{next(self._ids)}"

    def post_to_esp(self, payload, message):
        type(self).attempts += 1
        if type(self).failures > 0:
            type(self).failures -= 1
            raise AnymailAPIError("provider down: 503 Service Unavailable")
        return super().post_to_esp(payload, message)
