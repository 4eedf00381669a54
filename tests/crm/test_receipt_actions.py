"""Receipt actions from the admin: issue for a gift, void with a reason; never across networks."""

from crm.models import Donation, Receipt


def test_treasurer_issues_then_voids_a_receipt(client, users, rows):
    donation = Donation.objects.create(
        network=rows["b"]["donor"].network,
        donor=rows["b"]["donor"],
        amount_cents=5000,
        status="succeeded",
        method="bank_transfer",
        channel="offline",
    )
    # a gift already covered is refused with a message, not an error page
    covered = rows["b"]["donation"].pk
    client.force_login(users["tesoreria-valle-serena"])
    assert client.post(f"/admin/crm/donations/{covered}/issue-receipt/").status_code == 302
    client.force_login(users["tesoreria-valle-serena"])
    response = client.post(f"/admin/crm/donations/{donation.pk}/issue-receipt/")
    assert response.status_code == 302
    receipt = Receipt.objects.get(donations=donation)
    response = client.post(f"/admin/crm/receipts/{receipt.pk}/void/", {"reason": "wrong name"})
    receipt.refresh_from_db()
    assert response.status_code == 302 and receipt.status == "void"


def test_other_networks_treasurer_cannot_issue(client, users, rows):
    client.force_login(users["tesoreria-oltre-il-ponte"])
    response = client.post(f"/admin/crm/donations/{rows['b']['donation'].pk}/issue-receipt/")
    assert response.status_code == 404
    assert Receipt.objects.filter(donations=rows["b"]["donation"]).count() == 1
