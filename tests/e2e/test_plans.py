"""Recurring plans in a real browser, against the stand-in and its webhooks: the treasurer
stops a monthly plan from its page (question first), and on a phone the donor opens the
signed plan link, switches to yearly, gives a new card on Stripe's page, pauses and stops."""

import pytest
import requests

from .test_giving import CAMPAIGN_PATH, _fill_donor, giving_site  # noqa: F401 (fixture)

TREASURER = ("tesoreria-oltre-il-ponte", "demo-oltre-il-ponte-tes")


def _give_monthly(page, base):
    from crm.models import RecurringPlan

    page.goto(base + CAMPAIGN_PATH)
    page.check('input[name=amount][value="2500"]')
    page.check("input[name=frequency][value=monthly]")
    _fill_donor(page)
    page.click("#give-button")
    page.wait_for_selector("#card-number")
    page.click("#pay")
    page.wait_for_url("**/give/thanks/**")
    page.wait_for_selector('[data-status="confirmed"]', timeout=15_000)
    plan = RecurringPlan.objects.get()
    assert plan.status == "active"
    return plan


def _stripe(standin, path):
    return requests.get(f"{standin}{path}", auth=("sk_test_standin", ""), timeout=5).json()


@pytest.mark.django_db(transaction=True)
def test_treasurer_stops_a_monthly_plan_and_the_next_invoice_is_not_charged(
    giving_site,  # noqa: F811
    stripe_standin,
    page,
    screenshot,
):
    from crm.models import DonorEmail

    plan = _give_monthly(page, giving_site)
    # the treasurer opens the plan's page in the admin
    page.goto(giving_site + "/admin/login/")
    page.fill("#id_username", TREASURER[0])
    page.fill("#id_password", TREASURER[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{giving_site}/admin/crm/recurring-plans/inspect/{plan.pk}/")
    assert page.locator('[data-testid="plan-summary"]').get_attribute("data-status") == "active"
    assert page.locator('[data-testid="plan-gifts"] tbody tr').count() == 1
    # stop: a question page first, saying what will happen, with a way back
    page.locator(f'a[href$="/recurring-plans/{plan.pk}/cancel/"]').click()
    page.wait_for_url(f"**/recurring-plans/{plan.pk}/cancel/")
    assert page.title().startswith("Interrompere")
    assert (
        "non verrà addebitato più nulla" in page.locator('[data-testid="consequence"]').inner_text()
    )
    assert page.get_by_role("link", name="Torna indietro").is_visible()
    screenshot("plan-stop-question")
    page.locator('[data-testid="confirm"]').click()
    page.wait_for_url(f"**/recurring-plans/inspect/{plan.pk}/")
    assert page.locator('[data-testid="plan-summary"]').get_attribute("data-status") == "cancelled"
    screenshot("plan-stopped-admin")
    plan.refresh_from_db()
    assert plan.status == "cancelled"
    sub = _stripe(stripe_standin, f"/v1/subscriptions/{plan.stripe_subscription_id}")
    assert sub["status"] == "canceled"
    # the stand-in's next period: nothing is charged
    renew = requests.post(
        f"{stripe_standin}/_standin/subscriptions/{plan.stripe_subscription_id}/renew", timeout=5
    )
    assert renew.status_code == 400
    invoices = _stripe(
        stripe_standin, f"/v1/invoices?subscription={plan.stripe_subscription_id}&status=paid"
    )
    assert len(invoices["data"]) == 1
    assert plan.donations.count() == 1
    assert DonorEmail.objects.filter(kind="plan_stopped", recurring_plan=plan).count() == 1


@pytest.mark.django_db(transaction=True)
def test_donor_on_a_phone_switches_to_yearly_updates_the_card_pauses_and_stops(
    giving_site,  # noqa: F811
    stripe_standin,
    page,
    screenshot,
    settings,
):
    from crm.links import plan_manage_url

    settings.SITE_URL = giving_site
    plan = _give_monthly(page, giving_site)
    first_card = _stripe(stripe_standin, f"/v1/subscriptions/{plan.stripe_subscription_id}")[
        "default_payment_method"
    ]
    # the donor opens the signed link from their email
    page.goto(plan_manage_url(plan))
    summary = page.locator('[data-testid="plan-status"]')
    assert summary.get_attribute("data-interval") == "month"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    screenshot("plan-manage-phone")
    # yearly, from the next payment date
    page.select_option("#id_interval", "year")
    page.locator('[data-testid="change-interval"]').click()
    page.wait_for_selector('[data-done="interval"]')
    assert summary.get_attribute("data-interval") == "year"
    # a new card on Stripe's page, then back
    page.locator('[data-testid="update-card"]').click()
    page.wait_for_selector("#card-number")
    page.fill("#card-number", "5555 5555 5555 4444")
    page.click("#save")
    page.wait_for_selector('[data-done="card"]')
    sub = _stripe(stripe_standin, f"/v1/subscriptions/{plan.stripe_subscription_id}")
    assert sub["default_payment_method"] != first_card
    # pause
    page.locator('[data-testid="pause"]').click()
    page.wait_for_selector('[data-done="paused"]')
    assert summary.get_attribute("data-status") == "paused"
    assert page.locator('[data-testid="resume"]').is_visible()
    # stop, after the question
    page.locator('[data-testid="stop"]').click()
    page.locator('[data-testid="confirm-stop"]').click()
    page.wait_for_selector('[data-status="cancelled"]')
    screenshot("plan-stopped-phone")
    plan.refresh_from_db()
    assert (plan.interval, plan.status) == ("year", "cancelled")
    sub = _stripe(stripe_standin, f"/v1/subscriptions/{plan.stripe_subscription_id}")
    assert sub["status"] == "canceled"
    assert sub["items"]["data"][0]["price"]["recurring"]["interval"] == "year"
