"""Public CRM endpoints (no login): mail tracking webhooks, signed receipt links and the
newsletter's confirmation link."""

from django.urls import include, path

from .consent_views import newsletter_confirm
from .receipt_views import receipt_download

app_name = "crm"
urlpatterns = [
    # anymail's tracking webhooks, e.g. /crm/anymail/postmark/tracking/ (basic auth with
    # ANYMAIL_WEBHOOK_SECRET); delivery status lands on ReceiptEmail via crm.mail_tracking. Strict:
    # an unreadable payload is a 400, not a 500 (crm.mail_webhooks).
    path("crm/anymail/", include("crm.mail_webhooks")),
    path("crm/receipts/<str:token>/", receipt_download, name="receipt_download"),
    path("crm/newsletter/<str:token>/", newsletter_confirm, name="newsletter_confirm"),
]
