"""The treasurer's plan page without Stripe: what it shows, the manage link it sends (one
history entry, one email), and nothing of it for the other network's treasurer."""

from html import unescape

from django.urls import reverse
from wagtail.models import ModelLogEntry

from crm import plan_history
from crm.models import DonorEmail


def _url(name, plan):
    return reverse(f"crm_recurringplan:{name}", args=[plan.pk])


def test_plan_page_shows_the_plan_and_sends_the_manage_link(client, users, rows):
    plan = rows["a"]["recurringplan"]
    client.force_login(users["tesoreria-oltre-il-ponte"])
    html = client.get(_url("inspect", plan)).content.decode()
    assert 'data-testid="plan-summary"' in html and "Payment failing" in html
    assert "10.00" in html and "cents" not in html
    # no Stripe subscription: no Stripe actions offered, and their pages are refused
    assert _url("plan_cancel", plan) not in html and _url("plan_link", plan) in html
    question = client.get(_url("plan_link", plan))
    assert question.status_code == 200 and "Send the donor their manage link?" in (
        question.content.decode()
    )
    assert client.post(_url("plan_link", plan)).status_code == 302
    email = DonorEmail.objects.get(kind=DonorEmail.Kind.PLAN_LINK)
    assert (email.recurring_plan, email.to) == (plan, plan.donor.email)
    entries = ModelLogEntry.objects.filter(object_id=str(plan.pk), action=plan_history.LINK)
    assert entries.count() == 1 and entries.get().user == users["tesoreria-oltre-il-ponte"]
    assert "Manage link sent to the donor" in client.get(_url("inspect", plan)).content.decode()


def test_other_networks_treasurer_gets_404_and_nothing_is_sent(client, users, rows):
    plan = rows["a"]["recurringplan"]
    client.force_login(users["tesoreria-valle-serena"])
    for name in ("inspect", "plan_link", "plan_cancel", "plan_amount", "plan_interval"):
        assert client.get(_url(name, plan)).status_code == 404
        assert client.post(_url(name, plan)).status_code == 404
    assert not DonorEmail.objects.filter(kind=DonorEmail.Kind.PLAN_LINK).exists()


def test_a_plan_amount_above_the_networks_maximum_is_explained_to_the_treasurer(
    client, users, rows
):
    # the donor's page says "for more, please contact us": the treasurer is the "us"
    plan = rows["a"]["recurringplan"]
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.post(_url("plan_amount", plan), {"amount": "1.000.000"})
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "contact us" not in html
    assert "The network's largest online gift is €" in html
