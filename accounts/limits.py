"""Who is asking, and how often: the client address rule and the password-reset throttle.

A password-reset form that sends an email on every post lets anyone flood a colleague's inbox
(or the provider's sending quota) with one script. Requests over the limit get the same neutral
"if the address exists we sent an email" page, and nothing is sent.
"""

from crm.throttle import client_key, take_ticket

# (max requests, window in seconds): per address asked for, and per client address.
PASSWORD_RESET_LIMITS = {"email": (3, 3600), "ip": (10, 3600)}


def client_ip(request):
    """The client's address, the same rule as the giving rate limits (campaigns.ratelimit):
    REMOTE_ADDR only. Behind a front server, list it in TRUSTED_PROXIES: ops.middleware then
    sets REMOTE_ADDR from what that proxy appended to X-Forwarded-For (nothing else of the
    header is believed). Limits count it by client (`crm.throttle.client_key`)."""
    return request.META.get("REMOTE_ADDR") or None


def sign_in_client(request):
    """The client django-axes counts failed sign-ins of (AXES_CLIENT_IP_CALLABLE): the address,
    or for IPv6 the first address of its /64 (one home or phone has a whole /64, and would
    otherwise get a fresh count from each of its addresses)."""
    address = client_ip(request)
    return client_key(address) if address else None


def allow_password_reset(email, ip):
    """True if a reset email for `email` asked from `ip` may be sent now. The address is
    counted only when the client is within its own limit (a flood from one client does not
    use up the owner's own requests for the address)."""
    ip_limit, ip_window = PASSWORD_RESET_LIMITS["ip"]
    email_limit, email_window = PASSWORD_RESET_LIMITS["email"]
    return take_ticket("signin:reset:ip", client_key(ip), ip_limit, ip_window) and take_ticket(
        "signin:reset:email", email.strip().lower(), email_limit, email_window
    )
