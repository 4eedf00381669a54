"""The admin's "CRM" menu: donors, donations, recurring plans and receipts. Outer apps add
their own screens to it through `extensions.CRM_MENU` (the giving app's Stripe event log)."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.model import ModelViewSetGroup

from crm import extensions

from .attempts import CheckoutAttemptViewSet
from .donors import DonorViewSet
from .entities import IssuingEntityViewSet
from .gifts import DonationViewSet
from .imports import ImportBatchViewSet
from .in_kind import InKindGiftViewSet
from .plans import RecurringPlanViewSet
from .receipts import ReceiptViewSet
from .yearly import YearViewSet


class CrmViewSetGroup(ModelViewSetGroup):
    menu_label = _("CRM")
    menu_icon = "group"
    menu_order = 150
    submenu_hook = extensions.CRM_MENU
    items = (
        DonorViewSet("crm_donor", url_prefix="crm/donors"),
        DonationViewSet("crm_donation", url_prefix="crm/donations"),
        InKindGiftViewSet("crm_inkindgift", url_prefix="crm/in-kind"),
        CheckoutAttemptViewSet("crm_checkout_attempt", url_prefix="crm/checkout-attempts"),
        RecurringPlanViewSet("crm_recurringplan", url_prefix="crm/recurring-plans"),
        ReceiptViewSet("crm_receipt", url_prefix="crm/receipts"),
        YearViewSet("crm_yearly", url_prefix="crm/year"),
        ImportBatchViewSet("crm_importbatch", url_prefix="crm/imports"),
        IssuingEntityViewSet("crm_entity", url_prefix="crm/entities"),
    )
