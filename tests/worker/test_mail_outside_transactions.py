"""An email to a donor is handed to the mail provider outside any transaction and without a
lock on its row (crm.mail: claim, commit, send, record): a slow provider holds up nobody."""

import pytest
from django.core import mail as django_mail

from crm.models import DonorEmail

from . import probe_mail

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_email_is_sent_with_no_transaction_open_and_its_row_free(give, settings):
    # given a mail backend that looks at the sender while it sends
    settings.MAILERS = {"default": {"BACKEND": "tests.worker.probe_mail.ProbeBackend"}}
    probe_mail.seen.clear()
    django_mail.outbox = []

    # when a gift's receipt is emailed (the immediate backend sends after the commit)
    give(1)

    # then it was sent once, outside any transaction, its row locked by nobody
    email = DonorEmail.objects.get()
    assert (email.status, email.attempts, email.claimed_by) == (DonorEmail.Status.SENT, 1, "")
    assert len(probe_mail.seen) == 1
    assert probe_mail.seen[0]["in_transaction"] is False
    if probe_mail.seen[0]["row_free"] is not None:  # PostgreSQL
        assert probe_mail.seen[0]["row_free"] is True
