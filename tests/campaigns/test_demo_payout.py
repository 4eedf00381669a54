"""`make demo` shows a first payout, reconciled to the cent, and an observer of the community
of practice (seed_demo_payout, seed_demo_outreach); both commands add nothing twice."""

import io

from django.core.management import call_command

from campaigns.payouts.models import Payout
from campaigns.payouts.report import payout_totals
from crm.models import Donation
from outreach.community import can_observe, taking_part


def test_the_demo_payout_is_a_reconciled_record_made_once(client, demo):
    call_command("seed_demo_payout", stdout=io.StringIO())
    call_command("seed_demo_payout", stdout=io.StringIO())
    payout = Payout.objects.get()
    assert payout.network == demo["oltre-il-ponte"] and payout.status == Payout.Status.PAID
    totals = payout_totals(payout)
    assert totals.lines == 2 and totals.difference == 0 and totals.net == payout.amount_cents
    gifts = Donation.objects.filter(stripe_payout_id=payout.stripe_payout_id)
    assert gifts.count() == 2 and all(g.network == payout.network for g in gifts)
    # the treasurer finds it on the Payouts screen, in words
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="tesoreria-oltre-il-ponte"))
    page = client.get(f"/admin/crm/payouts/{payout.pk}/report/").content.decode()
    assert "Pagamento con carta" in page and "Giorgio Valsecchi" in page


def test_the_demo_has_an_observer_who_sees_the_community(demo, django_user_model):
    call_command("seed_demo_outreach", stdout=io.StringIO())
    call_command("seed_demo_outreach", stdout=io.StringIO())
    observer = django_user_model.objects.get(username="osservatorio")
    assert observer.check_password("demo-osservatorio") and can_observe(observer)
    assert taking_part().count() == 2
