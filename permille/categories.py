"""The expense headings of the Ministry's rendiconto model."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExpenseCategory(models.TextChoices):
    """The expense headings of the Ministry's rendiconto (Mod. A, D.D. 488/2021), in its order;
    heading 6, the amount set aside (accantonamento), is `PerMilleGrant.set_aside_cents`."""

    HUMAN_RESOURCES = "human_resources", _("1. Human resources")
    RUNNING_COSTS = "running_costs", _("2. Running costs")
    GOODS_AND_SERVICES = "goods_and_services", _("3. Goods and services bought")
    GRANTS = "grants", _("4. Grants made under the entity's own purpose")
    OTHER = "other", _("5. Other expenses")
