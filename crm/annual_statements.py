"""Yearly statements (docs/design/domain.md, flow 2): in January, one `annual` receipt per donor
for the gifts of the previous year that no issued receipt covers yet.

Three passes, each resumable because it starts from what the database already holds:

1. issue: one transaction per donor (`crm.receipts.issue_receipt`, numbering under the
   counter's row lock). A crash loses at most the donor in progress; a rerun skips the gifts
   already covered, so nobody gets two statements.
2. render: the year's statements that have no stored PDF, rendered by `workers` processes of
   this command, or (workers=0) by the background task worker, enqueued as each is issued.
3. email: the year's statements that were never emailed (`--no-email` skips the pass).

Memory stays flat: donors and receipts are walked by keyset pages of ids (a few hundred at a
time), and no PDF is kept after it is stored.
"""

import logging
import multiprocessing

from django.db import connections, transaction

from . import pdf
from .models import Donation, Network, Receipt
from .outbox import queue_receipt_email
from .receipt_files import ensure_receipt_pdf
from .receipts import ReceiptError, issue_receipt
from .storage import drop_inherited_connections

logger = logging.getLogger(__name__)

PAGE = 500


def _uncovered_gifts(year, network=None, entity=None):
    """The gifts of `year` with a donor that no issued receipt covers (of one network, of one
    entity of it, if given)."""
    gifts = (
        Donation.objects.succeeded()
        .of_year(year)
        .filter(donor__isnull=False)
        .exclude(receipts__status=Receipt.Status.ISSUED)
    )
    if entity is not None:
        gifts = gifts.of_entity(entity)
    return gifts.filter(network=network) if network is not None else gifts


def statements(year, network=None, entity=None):
    """The issued yearly statements of `year` (of one network, of one entity of it, if given)."""
    receipts = Receipt.objects.filter(
        year=year, kind=Receipt.Kind.ANNUAL, status=Receipt.Status.ISSUED
    )
    if entity is not None:
        receipts = receipts.of_entity(entity)
    return receipts.filter(network=network) if network is not None else receipts


def _id_pages(queryset, field="pk"):
    """Lists of distinct `field` values in increasing order, PAGE at a time. Keyset paging
    (`field > last`) stays correct while the loop writes: rows that leave the queryset (a gift
    now covered, a receipt now rendered) are simply not seen again."""
    last = None
    while True:
        page = queryset if last is None else queryset.filter(**{f"{field}__gt": last})
        ids = list(page.order_by(field).values_list(field, flat=True).distinct()[:PAGE])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _lead_id(leads, network_id):
    if network_id not in leads:
        leads[network_id] = Network.objects.get(pk=network_id).lead_entity.pk
    return leads[network_id]


def issue_statements(
    year, network=None, progress=None, *, enqueue_render=True, only=None, on_issue=None, entity=None
):
    """Pass 1: issue one statement per donor with uncovered gifts in `year` and entity that
    received them (of `entity` only, if given: a run from the admin). Returns how many.
    `progress(done, total)` is called after each donor. `only`: a set of donor ids (those the
    network's rules let through, crm.statement_runs.preview); others are skipped.
    `on_issue(receipt)` runs in the statement's own transaction (a run records it there, so a
    crash never leaves a statement outside its run)."""
    pending = _uncovered_gifts(year, network, entity)
    total = len(only) if only is not None else pending.values("donor_id").distinct().count()
    issued = done = 0
    leads: dict[int, int] = {}
    for page in _id_pages(pending, "donor_id"):
        for donor_id in page:
            if only is not None and donor_id not in only:
                continue
            gifts = _uncovered_gifts(year, network, entity).filter(donor_id=donor_id)
            # One statement per entity the donor gave to: each entity receipts its own gifts.
            # (A gift recorded without an entity is the lead entity's.)
            by_entity: dict[int, list] = {}
            for gift in gifts.only("pk", "entity_id", "network_id").order_by("pk"):
                entity_id = gift.entity_id or _lead_id(leads, gift.network_id)
                by_entity.setdefault(entity_id, []).append(gift)
            for _entity_id, entity_gifts in sorted(by_entity.items()):
                try:
                    with transaction.atomic():
                        receipt = issue_receipt(
                            entity_gifts, kind=Receipt.Kind.ANNUAL, enqueue_render=enqueue_render
                        )
                        if on_issue:
                            on_issue(receipt)
                except ReceiptError as exc:  # e.g. a concurrent run covered them first
                    logger.info("annual statement for donor %s skipped: %s", donor_id, exc)
                else:
                    issued += 1
            done += 1
            if progress:
                progress(done, total)
    return issued


def _render_one(receipt_id):
    """Render one statement; a failure is recorded on the receipt (`pdf_error`) and returned,
    so one broken receipt does not stop the batch."""
    try:
        ensure_receipt_pdf(Receipt(pk=receipt_id))
    except Exception as exc:  # noqa: BLE001  (reported by the caller, stored on the receipt)
        return receipt_id, f"{type(exc).__name__}: {exc}"
    return receipt_id, ""


def _start_worker():
    # Forked from the command: drop the parent's rendering objects (Pango is not fork-safe) and
    # its storage connections (a bucket client's sockets). The child stores each PDF through
    # the field, on the private storage like any other receipt (crm.storage).
    pdf.reset_renderer()
    drop_inherited_connections(Receipt._meta.get_field("pdf").storage)
    # The parent closed its database connections before the fork; should one still be open
    # (a connection the parent holds in a transaction), the child must neither use nor close
    # the parent's socket: it forgets it and opens its own on first use.
    for conn in connections.all(initialized_only=True):
        conn.connection = None
        conn.closed_in_transaction = False
        conn.atomic_blocks = []
        conn.in_atomic_block = False
        conn.savepoint_ids = []
        conn.needs_rollback = False


def render_statements(year, network=None, progress=None, *, workers=1, entity=None):
    """Pass 2: render and store the PDFs of the year's statements that have none (of `entity`
    only, if given), in `workers` processes (1: in this process). Returns the ids that failed."""
    pending = statements(year, network, entity).filter(pdf_sha256="")
    total = pending.count()
    failed, done = [], 0
    pool = None
    if workers > 1:
        # Children must not share the parent's database connections: close them before fork;
        # each child (and the parent, for the next page of ids) opens its own.
        connections.close_all()
        pool = multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker)
    try:
        for page in _id_pages(pending):
            results = (
                pool.imap_unordered(_render_one, page, chunksize=4)
                if pool
                else map(_render_one, page)
            )
            for receipt_id, error in results:
                done += 1
                if error:
                    failed.append(receipt_id)
                    logger.error("statement %s: PDF rendering failed: %s", receipt_id, error)
                if progress:
                    progress(done, total)
    finally:
        if pool:
            pool.close()
            pool.join()
    return failed


def email_statements(year, network=None, receipts=None, entity=None):
    """Pass 3: queue the thank-you email of every statement of the year (of `entity` only, if
    given; or of `receipts`, a run's) never emailed (donors with an address). Returns how many
    were queued."""
    base = statements(year, network, entity) if receipts is None else receipts
    pending = base.filter(emails__isnull=True).exclude(donor__email="")
    queued = 0
    for page in _id_pages(pending):
        for receipt in Receipt.objects.filter(pk__in=page).select_related("donor"):
            # None: another run emailed it meanwhile (the unique constraint saw to it).
            with transaction.atomic():
                email = queue_receipt_email(receipt, again=False)
            queued += email is not None
    return queued


def issue_annual_statements(year, network=None, progress=None, *, email=True, workers=0):
    """All three passes. workers=0 leaves rendering to the background task worker; workers>=1
    renders here before emailing. Returns the number of statements issued by this run."""
    issued = issue_statements(year, network, progress, enqueue_render=workers == 0)
    if workers:
        render_statements(year, network, workers=workers)
    if email:
        email_statements(year, network)
    return issued
