"""The signed links of the donor's page (crm.portal): the page where a donor asks for a link,
and the link itself. A link names one donor and the address it was sent to (a hash, as
`crm.links.newsletter_confirm_token` does): it stops working when that donor is merged,
anonymised or changes address, and it expires (DONOR_PORTAL_LINK_MAX_AGE)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

from . import links
from .links import _address_key
from .models import Donor

PORTAL_SALT = "crm.donor-portal"


def link_max_age():
    return settings.DONOR_PORTAL_LINK_MAX_AGE


def login_token(donor):
    return signing.dumps({"d": donor.pk, "e": _address_key(donor.email)}, salt=PORTAL_SALT)


def _absolute(name, network, *args, language="it"):
    with translation.override("en" if language == "en" else "it"):
        path = reverse(name, args=[network.slug, *args])
    return f"{settings.SITE_URL}{path}"


def login_url(donor):
    """Absolute, signed link that opens the donor's page, in the donor's language."""
    return _absolute(
        "donor_portal:open", donor.network, login_token(donor), language=donor.language
    )


def request_url(network, donor=None):
    """The page where a donor of `network` asks for the link to their page."""
    language = donor.language if donor is not None else settings.LANGUAGE_CODE
    return _absolute("donor_portal:ask", network, language=language)


def live_donor(pk, address_key):
    """The donor `pk` if they still exist as themselves (not merged, not anonymised) and their
    address is still the one the link was sent to; else None."""
    live = Donor.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
    donor = live.select_related("network").filter(pk=pk).first()
    if donor is None or not donor.email or _address_key(donor.email) != address_key:
        return None
    return donor


def donor_from_login_token(token):
    """(donor id, address key) of a link. Raises signing.BadSignature (SignatureExpired when
    too old)."""
    data = signing.loads(token, salt=PORTAL_SALT, max_age=link_max_age())
    if not isinstance(data, dict) or not isinstance(data.get("d"), int):
        raise signing.BadSignature("not a donor page link")
    return data["d"], str(data.get("e") or "")


def plan_link(plan):
    """The signed link to a plan's own page (manage, or at least stop), none once it ended."""
    if plan.status == plan.Status.CANCELLED:
        return ""
    manage = getattr(links, "plan_manage_url", links.plan_cancel_url)
    return manage(plan)
