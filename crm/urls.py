"""Public CRM endpoints (no login): mail tracking webhooks and signed receipt links."""

app_name = "crm"
urlpatterns = []
