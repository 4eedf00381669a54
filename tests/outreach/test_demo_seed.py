"""`make demo` seeds what a newcomer needs to try a message to donors."""

import io

from django.core import mail
from django.core.management import call_command

from outreach.models import Delivery, Message
from outreach.sending import recipients_for, start_sending


def test_the_demo_message_goes_to_its_three_donors_once_seeded_twice(
    demo, django_user_model, django_capture_on_commit_callbacks
):
    call_command("seed_demo_outreach", stdout=io.StringIO())
    call_command("seed_demo_outreach", stdout=io.StringIO())
    network = demo["oltre-il-ponte"]
    message = Message.objects.get(network=network)
    assert recipients_for(message).count() == 3
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        start_sending(message, django_user_model.objects.get(username="admin"))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert Delivery.objects.filter(message=message, status=Delivery.Status.SENT).count() == 3
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "Emma, here is what we did together",
        "Lucia, ecco cosa abbiamo fatto insieme",
        "Paolo, ecco cosa abbiamo fatto insieme",
    ]
    body = next(m for m in mail.outbox if m.to[0].startswith("lucia")).body
    assert "None" not in body and "{" not in body
    # Each demo donor gave once: the placeholder reads as a real gift, not "()".
    assert "()" not in body and "50,00 del 2" in body
    # The button leads to the campaign on this site, marked for attribution.
    assert "/un-doposcuola-per-ogni-quartiere/?m=" in body
