"""Yearly statements started from the admin: who gets one (the preview), and the run itself,
carried out by the background worker on a `StatementRun` row the page polls.

A run covers one issuing entity of the network (`StatementRun.entity`): its gifts, its series,
its data on every statement. Who gets a statement: a donor with gifts of the year to that
entity that no issued receipt covers, unless
- every one of those gifts was paid in cash (cash gives no tax benefit);
- the donor has no codice fiscale (nor, for an organisation, a partita IVA);
- the donor has no postal address (street and city);
- the donor asked for no receipt in the year and the network does not send statements to
  every donor (`Network.annual_statement_for_all`).
`manage.py issue_annual_statements` applies the same rules (unless `--all-donors`).

A run is resumable: it issues through `crm.annual_statements.issue_statements`, which skips
the gifts already covered, and records each statement in the run inside the statement's own
transaction. One worker holds a run at a time (`claim`, compare-and-set) and writes its
heartbeat while it works; a run whose heartbeat is stale (a killed worker) is taken over on
the same row, by the sweep or by the treasurer's "Resume" button, never while it still beats.
It never issues a second number for a donor (the gifts are covered under the counter's lock)
and never emails a statement twice (a unique constraint on the email, crm.models).
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .annual_statements import _uncovered_gifts, email_statements, issue_statements
from .mail import claimer_id
from .models import KEPT, Donation, Donor, DonorEmail, StatementRun
from .money import fiscal_today, format_amount, gift_year_bounds

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 200
PROGRESS_EVERY = 10


class Reason:
    ONLY_CASH = "only_cash"
    NO_CF = "no_cf"
    NO_ADDRESS = "no_address"
    NOT_ASKED = "not_asked"

    LABELS = {
        ONLY_CASH: _("Only cash gifts (no tax benefit)"),
        NO_CF: _("No codice fiscale"),
        NO_ADDRESS: _("No postal address"),
        NOT_ASKED: _("Did not ask for a receipt, and the network sends statements on request"),
    }


@dataclass
class PreviewRow:
    donor_id: int
    name: str
    gifts: int
    amount_cents: int
    reasons: list = field(default_factory=list)

    @property
    def amount(self):
        return format_amount(self.amount_cents)

    @property
    def reason_labels(self):
        return [Reason.LABELS[r] for r in self.reasons]


@dataclass
class Preview:
    network: object
    year: int
    eligible: list = field(default_factory=list)
    left_out: list = field(default_factory=list)

    @property
    def eligible_ids(self):
        return {row.donor_id for row in self.eligible}

    def counts(self):
        """How many donors are left out for each reason (a donor may have several)."""
        counts = dict.fromkeys(Reason.LABELS, 0)
        for row in self.left_out:
            for reason in row.reasons:
                counts[reason] += 1
        return [(Reason.LABELS[r], n) for r, n in counts.items() if n]


def _name(kind, first, last, organisation, email):
    if kind == Donor.Kind.ORGANISATION and organisation:
        return organisation
    return f"{first} {last}".strip() or organisation or email or "—"


def preview(network, year, entity=None):
    """Who would get a statement of `year` from `network` (from `entity` of it, if given), and
    who is left out and why."""
    pending = (
        _uncovered_gifts(year, network, entity)
        .order_by()
        .values_list(
            "donor_id",
            "donor__kind",
            "donor__first_name",
            "donor__last_name",
            "donor__organisation_name",
            "donor__email",
            "donor__codice_fiscale",
            "donor__partita_iva",
            "donor__street_address",
            "donor__city",
        )
        .annotate(
            n=Count("id"),
            total=Sum(KEPT),
            traceable=Count("id", filter=~Q(method=Donation.Method.CASH)),
        )
    )
    asked = set()
    if not network.annual_statement_for_all:
        gifts = Donation.objects.succeeded().of_year(year).filter(network=network)
        if entity is not None:
            gifts = gifts.of_entity(entity)
        asked = set(
            gifts.filter(wants_receipt=True)
            .order_by()
            .values_list("donor_id", flat=True)
            .distinct()
        )
    result = Preview(network, year)
    for (
        donor_id,
        kind,
        first,
        last,
        org,
        email,
        cf,
        piva,
        street,
        city,
        n,
        total,
        traceable,
    ) in pending.iterator(chunk_size=2000):
        reasons = []
        if not traceable:
            reasons.append(Reason.ONLY_CASH)
        if not cf.strip() and not (kind == Donor.Kind.ORGANISATION and piva.strip()):
            reasons.append(Reason.NO_CF)
        if not street.strip() or not city.strip():
            reasons.append(Reason.NO_ADDRESS)
        if not network.annual_statement_for_all and donor_id not in asked:
            reasons.append(Reason.NOT_ASKED)
        row = PreviewRow(donor_id, _name(kind, first, last, org, email), n, total, reasons)
        (result.left_out if reasons else result.eligible).append(row)
    result.eligible.sort(key=lambda r: (r.name.lower(), r.donor_id))
    result.left_out.sort(key=lambda r: (r.name.lower(), r.donor_id))
    return result


def year_is_over(year, today=None):
    return (today or fiscal_today()) > gift_year_bounds(year)[1]


def active_run(network, year, entity=None):
    """The run of this network (of `entity` of it) and year still queued or running, if any
    (a run of an older version, without an entity, covers every entity)."""
    runs = StatementRun.objects.filter(network=network, year=year)
    if entity is not None:
        runs = runs.filter(Q(entity=entity) | Q(entity__isnull=True))
    return runs.exclude(status__in=(StatementRun.Status.DONE, StatementRun.Status.FAILED)).first()


def is_stale(run, now=None):
    """A run not finished whose worker has not beaten for CLAIM_STALE_AFTER: it may be taken
    over (by the sweep, or by hand)."""
    if run.finished:
        return False
    seen = run.heartbeat_at or run.created_at
    return (now or timezone.now()) - seen > datetime.timedelta(seconds=settings.CLAIM_STALE_AFTER)


class LostClaim(Exception):
    """The run was taken over by another worker (this one had stopped beating): stop now."""


class TimeUp(Exception):
    """The run used its STATEMENT_RUN_SECONDS: hand over to a fresh task."""


def claim(run, worker, now=None):
    """Take the run for `worker` by compare-and-set: only if nobody holds it, or its holder's
    heartbeat is stale. Of two workers (two machines, or a sweep's task beside a live one) one
    gets it. Returns whether this one did."""
    now = now or timezone.now()
    free = (
        Q(claimed_by="")
        | Q(heartbeat_at__isnull=True)
        | Q(heartbeat_at__lt=now - datetime.timedelta(seconds=settings.CLAIM_STALE_AFTER))
    )
    taken = (
        StatementRun.objects.filter(pk=run.pk)
        .exclude(status__in=(StatementRun.Status.DONE, StatementRun.Status.FAILED))
        .filter(free)
        .update(
            claimed_by=worker,
            heartbeat_at=now,
            status=StatementRun.Status.RUNNING,
            attempts=F("attempts") + 1,
        )
    )
    if taken:
        run.claimed_by, run.heartbeat_at, run.status = worker, now, StatementRun.Status.RUNNING
    return bool(taken)


def _save(run, worker, **fields):
    """Write progress and the heartbeat, only while the claim is ours (else LostClaim)."""
    for name, value in fields.items():
        setattr(run, name, value)
    run.heartbeat_at = timezone.now()
    if not StatementRun.objects.filter(pk=run.pk, claimed_by=worker).update(
        heartbeat_at=run.heartbeat_at, **fields
    ):
        raise LostClaim(run.pk)


def carry_out(run, progress=None, *, worker=None, seconds=None):
    """Issue (or go on issuing) the statements of `run`, then queue their emails. The PDFs are
    rendered by the background worker(s), one task per statement, while this goes on.

    The run is claimed first (`claim`) and beats while it works; it stops at its next beat if
    another worker took it over. It works for at most `seconds` (STATEMENT_RUN_SECONDS), then
    releases its claim and returns "more": the caller queues a fresh task, which goes on
    where it stopped. Returns "done", "more", or None (another worker holds it)."""
    if run.finished:
        return "done"
    worker = worker or claimer_id()
    seconds = settings.STATEMENT_RUN_SECONDS if seconds is None else seconds
    if not claim(run, worker):
        return None
    started = timezone.now()
    network, entity = run.network, run.entity
    rows = preview(network, run.year, entity)
    already = run.receipts.count()
    _save(run, worker, total=already + len(rows.eligible), error="")

    def report(done, total):
        # Every PROGRESS_EVERY donors (one write less per donor for the database's lock).
        if done % PROGRESS_EVERY == 0 or done == total:
            _save(run, worker, done=already + done)
            if (timezone.now() - started).total_seconds() > seconds and done < total:
                raise TimeUp
        if progress:
            progress(done, total)

    def record(receipt):
        run.receipts.add(receipt)

    try:
        issue_statements(
            run.year,
            network,
            report,
            enqueue_render=True,
            only=rows.eligible_ids,
            on_issue=record,
            entity=entity,
        )
        emailed = (
            email_statements(run.year, network, receipts=run.receipts.all())
            if run.send_email
            else 0
        )
    except TimeUp:
        StatementRun.objects.filter(pk=run.pk, claimed_by=worker).update(claimed_by="")
        return "more"
    except LostClaim:
        logger.warning("statement run %s was taken over by another worker: stopping", run.pk)
        return None
    except Exception as exc:
        StatementRun.objects.filter(pk=run.pk, claimed_by=worker).update(
            error=f"{type(exc).__name__}: {exc}", claimed_by=""
        )
        raise
    _save(
        run,
        worker,
        status=StatementRun.Status.DONE,
        done=run.receipts.count(),
        total=run.receipts.count(),
        emailed=run.emailed + emailed,
        finished_at=timezone.now(),
        claimed_by="",
    )
    return "done"


def results(run):
    """What a run has produced so far: statements issued, PDFs ready or failed, emails."""
    receipts = run.receipts.all()
    emails = DonorEmail.objects.filter(receipt__in=receipts)
    sent = (DonorEmail.Status.SENT, DonorEmail.Status.DELIVERED)
    # Skipped: the address bounced before (crm.sending), the statement stays on the donor's page.
    failed_mail = (DonorEmail.Status.BOUNCED, DonorEmail.Status.GAVE_UP, DonorEmail.Status.SKIPPED)
    issued = receipts.count()
    rendered = receipts.exclude(pdf_sha256="").count()
    pdf_failed = receipts.filter(pdf_sha256="").exclude(pdf_error="").count()
    return {
        "issued": issued,
        "rendered": rendered,
        "pdf_failed": pdf_failed,
        "emailed": emails.filter(status__in=sent).count(),
        "email_queued": emails.count(),
        "email_failed": emails.filter(status__in=failed_mail).count(),
        "email_pending": emails.filter(
            status__in=(DonorEmail.Status.QUEUED, DonorEmail.Status.FAILED)
        ).count(),
        "complete": run.status == StatementRun.Status.DONE and rendered + pdf_failed >= issued,
    }
