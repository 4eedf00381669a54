"""Verbs of personal pages: open one (its owner confirms their email by a signed link), the
communicator's moderation (approve, hide, close, edit: each in the page's history), the soft
credit of a gift made through a page, the owner told of each paid gift, the leaderboard.

A soft credit is never money: what a page raised is summed from the campaign's own gifts
(`crm`'s `KEPT`, the one definition), so the campaign total counts each gift once."""

from django.core import signing
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from cms import pagecache
from crm.models import KEPT, Donation
from crm.tasks import enqueue_with_work

from .fundraiser_models import Fundraiser, FundraiserLog, SoftCredit, Team
from .fundraiser_tasks import send_confirmation, tell_owner, tell_owner_public
from .tokens import CONFIRM_SALT


def _log(page: Fundraiser, action: str, by: str = "", note: str = "") -> None:
    FundraiserLog.objects.create(fundraiser=page, action=action, by=by[:150], note=note[:500])


def open_page(campaign, *, team_name: str = "", **fields) -> Fundraiser:
    """A new page, not public: its owner is emailed a link to confirm their address."""
    with transaction.atomic():
        team = None
        if team_name.strip():
            team, _created = Team.objects.get_or_create(campaign=campaign, name=team_name.strip())
        page = Fundraiser.objects.create(
            network=campaign.network, campaign=campaign, team=team, **fields
        )
        _log(page, "opened", by=page.email)
        enqueue_with_work(send_confirmation, page.pk)
    return page


def confirm_target(token: str) -> int | None:
    """The page a confirmation link names (its pk), None if the link is bad or too old."""
    try:
        return int(signing.loads(token, salt=CONFIRM_SALT, max_age=7 * 24 * 3600))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def confirm(token: str) -> Fundraiser | None:
    """The owner pressed the link's button: the page waits for a communicator. None if the
    link is bad."""
    pk = confirm_target(token)
    if pk is None:
        return None
    with transaction.atomic():
        page = Fundraiser.objects.select_for_update().filter(pk=pk).first()
        if page is not None and page.status == Fundraiser.Status.UNCONFIRMED:
            page.status = Fundraiser.Status.PENDING
            page.save(update_fields=["status", "updated_at"])
            _log(page, "confirmed", by=page.email)
    return page


MODERATION = {
    "approve": (Fundraiser.Status.PENDING, Fundraiser.Status.HIDDEN),
    "hide": (Fundraiser.Status.APPROVED, Fundraiser.Status.PENDING),
    "close": (Fundraiser.Status.APPROVED, Fundraiser.Status.HIDDEN, Fundraiser.Status.PENDING),
}
RESULT = {
    "approve": Fundraiser.Status.APPROVED,
    "hide": Fundraiser.Status.HIDDEN,
    "close": Fundraiser.Status.CLOSED,
}


def moderate(page_id: int, action: str, *, by: str, note: str = "") -> bool:
    """Approve, hide or close a page (a conditional UPDATE from the states it may leave);
    False if the page was not in one of them. The public page cache is refreshed; a page
    made public for the first time tells its owner."""
    with transaction.atomic():
        changed = Fundraiser.objects.filter(pk=page_id, status__in=MODERATION[action]).update(
            status=RESULT[action], updated_at=timezone.now()
        )
        if changed:
            _log(Fundraiser.objects.get(pk=page_id), action, by=by, note=note)
            transaction.on_commit(pagecache.bump_content_version)
            if action == "approve":  # the owner was promised a word when it goes public
                enqueue_with_work(tell_owner_public, page_id)
    return bool(changed)


def edit(page: Fundraiser, *, by: str, **fields) -> None:
    before = {name: getattr(page, name) for name in fields}
    for name, value in fields.items():
        setattr(page, name, value)
    page.save()
    changed = [name for name, value in before.items() if value != fields[name]]
    _log(page, "edited", by=by, note=", ".join(changed))
    transaction.on_commit(pagecache.bump_content_version)


def credit(donation: Donation, page: Fundraiser, *, show_amount: bool) -> SoftCredit | None:
    """Credit a gift started on an approved page of its own campaign to that page."""
    if page.status != Fundraiser.Status.APPROVED or page.campaign_id != donation.campaign_id:
        return None
    return SoftCredit.objects.get_or_create(
        donation=donation, defaults={"fundraiser": page, "show_amount": show_amount}
    )[0]


def gift_paid(donation: Donation, session: dict) -> None:
    """`campaigns.stripe_handlers.GIFT_PAID`: tell the page's owner, once, after the commit.
    Only a session started on a page (`fundraiser_views.gift_started`) costs a query."""
    if not (session.get("metadata") or {}).get("fundraiser"):
        return
    if SoftCredit.objects.filter(donation=donation, owner_told_at__isnull=True).exists():
        enqueue_with_work(tell_owner, donation.pk)


def raised(page: Fundraiser) -> dict:
    """What came through the page: the kept amount of its counted gifts, and how many."""
    gifts = Donation.objects.filter(soft_credit__fundraiser=page).succeeded()
    totals = gifts.aggregate(raised=Sum(KEPT), gifts=Count("pk"))
    return {"raised_cents": totals["raised"] or 0, "gifts": totals["gifts"]}


def leaderboard(campaign) -> dict:
    """The campaign's public pages and teams, by what came through them (each page's figure
    from `raised`: one definition)."""
    pages = Fundraiser.objects.public().filter(campaign=campaign).select_related("team")[:200]
    rows = sorted(
        ({"page": page, **raised(page)} for page in pages),
        key=lambda row: (-row["raised_cents"], row["page"].pk),
    )
    teams: dict[int, dict] = {}
    for row in rows:
        team = row["page"].team
        if team is not None:
            entry = teams.setdefault(team.pk, {"team": team, "raised_cents": 0, "pages": 0})
            entry["raised_cents"] += row["raised_cents"]
            entry["pages"] += 1
    return {
        "pages": rows,
        "teams": sorted(teams.values(), key=lambda t: (-t["raised_cents"], t["team"].pk)),
    }
