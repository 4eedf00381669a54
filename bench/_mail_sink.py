"""anymail's test backend for bench/messages.py, keeping no outbox: the real anymail send path
(payload, recipients, status, a message id per email), but 50,000 messages kept in memory
would make the worker's memory grow and the backend's message-id lookup (`outbox.index`)
quadratic. Nothing to run on its own."""

import itertools
import os

from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.core import mail

_ids = itertools.count(1)


class EmailBackend(AnymailTestBackend):
    def post_to_esp(self, payload, message):
        mail.outbox = []
        return super().post_to_esp(payload, message)

    def get_esp_message_id(self, message):
        return f"test-{os.getpid()}-{next(_ids)}"


if __name__ == "__main__":
    print("the mail backend of bench/messages.py; nothing to measure")
