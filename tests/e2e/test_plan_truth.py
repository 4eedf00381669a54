"""Plans tell the truth, in a real browser against the stand-in and its webhooks: a donor's
monthly gift is welcomed with its FIRST charge; the treasurer pauses the plan from its admin
page and the donor is told by email; the paused plan shows no next charge, neither to the
treasurer nor on the donor's own plan page."""

import pytest
import requests
from django.utils import timezone

from tests.e2e.test_donor_portal import wait_for_mail
from tests.e2e.test_giving import giving_site  # noqa: F401 (fixture)
from tests.e2e.test_plans import TREASURER, _give_monthly


@pytest.mark.django_db(transaction=True)
def test_welcome_with_the_first_charge_then_paused_by_the_treasurer_and_told(
    giving_site,  # noqa: F811
    stripe_standin,
    page,
    screenshot,
    mailoutbox,
    settings,
):
    from crm.links import plan_manage_url
    from crm.models import DonorEmail

    settings.SITE_URL = giving_site
    # given a donor on a phone who gives 25 € every month
    plan = _give_monthly(page, giving_site)
    (first_gift,) = plan.donations.all()

    # then the welcome comes with the first charge, and it is that charge's confirmation
    welcome = wait_for_mail(mailoutbox, lambda m: m.to == ["giulia@example.org"])
    assert "ha preso il via" in welcome.subject
    assert "il primo pagamento è arrivato" in welcome.body
    assert "€\xa025,00" in welcome.body
    confirmations = DonorEmail.objects.filter(kind__in=("gift", "plan_welcome"))
    assert list(confirmations.values_list("kind", "donation")) == [("plan_welcome", first_gift.pk)]

    # the treasurer sees the next charge of the running plan
    plan.refresh_from_db()
    due = timezone.localtime(plan.next_charge_at).strftime("%d/%m/%Y")
    page.goto(giving_site + "/admin/login/")
    page.fill("#id_username", TREASURER[0])
    page.fill("#id_password", TREASURER[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{giving_site}/admin/crm/recurring-plans/inspect/{plan.pk}/")
    summary = page.locator('[data-testid="plan-summary"]')
    assert summary.get_attribute("data-status") == "active"
    assert due in summary.inner_text()

    # when they pause it (a question first, then the change)
    page.locator(f'a[href$="/recurring-plans/{plan.pk}/pause/"]').click()
    page.wait_for_url(f"**/recurring-plans/{plan.pk}/pause/")
    consequence = page.locator('[data-testid="consequence"]').inner_text()
    assert "Il donatore riceve un'email che conferma la modifica." in consequence
    page.locator('[data-testid="confirm"]').click()
    page.wait_for_url(f"**/recurring-plans/inspect/{plan.pk}/")

    # then the plan is paused and shows no next charge
    assert summary.get_attribute("data-status") == "paused"
    assert due not in summary.inner_text()
    screenshot("plan-paused-admin")

    # and the donor is told, in their language, once
    told = wait_for_mail(mailoutbox, lambda m: "è cambiata" in m.subject)
    assert told.to == ["giulia@example.org"]
    assert "È in pausa: non verrà addebitato nulla" in told.body
    assert "Prossimo pagamento" not in told.body
    assert "/give/plan/" in told.body
    changed = DonorEmail.objects.filter(kind="plan_changed", recurring_plan=plan)
    assert changed.count() == 1

    # the donor's own plan page says paused, with no next payment
    page.goto(plan_manage_url(plan))
    assert page.locator('[data-testid="plan-status"]').get_attribute("data-status") == "paused"
    assert page.locator('[data-testid="plan-next-charge"]').count() == 0
    assert due not in page.locator('[data-testid="plan-status"]').inner_text()
    screenshot("plan-paused-donor")

    # the stand-in's next period: the invoice is voided, no gift, and still one notice
    renew = requests.post(
        f"{stripe_standin}/_standin/subscriptions/{plan.stripe_subscription_id}/renew", timeout=5
    )
    assert renew.status_code == 200
    assert plan.donations.count() == 1
    assert changed.count() == 1
