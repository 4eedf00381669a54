"""Import batches: the file a treasurer brings in, from upload to apply, and back (undo).

`start_batch` reads a file once and keeps its cells (so the columns can be mapped and the rows
previewed without uploading it again) and refuses a file already applied to the network (by
SHA-256 of its bytes, or the fingerprint of its content: the same data saved again).
`apply_batch` writes it (large files on the worker, in steps with progress);
`undo_batch` takes its gifts and new donors back while none of its gifts has a receipt;
`issue_batch_receipts` receipts (and emails) its gifts."""

import hashlib

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from . import receipt_selection
from .import_files import content_fingerprint, read_cells
from .import_rows import default_mapping
from .imports import ImportPlan, apply_import, plan_table
from .models import Donation, Donor, ImportBatch, Receipt

#: Files with more rows than this are applied by the worker (setting IMPORT_BACKGROUND_ROWS).
BACKGROUND_ROWS = 500
#: Rows written per transaction by the worker, progress saved between (IMPORT_STEP_ROWS).
STEP_ROWS = 200


class BatchRefused(Exception):
    """The batch cannot do what was asked; the message says why, for the treasurer."""

    def __init__(self, message, earlier=None):
        super().__init__(message)
        self.earlier = earlier


def file_hash(data):
    return hashlib.sha256(data).hexdigest()


def earlier_batch(network, sha256, content_hash=""):
    """The batch that already brought this file into the network (applied or being applied):
    the same bytes, or the same data saved again (`content_fingerprint`)."""
    live = (ImportBatch.Status.APPLIED, ImportBatch.Status.RUNNING)
    same = Q(sha256=sha256) | Q(content_hash=content_hash) if content_hash else Q(sha256=sha256)
    return ImportBatch.objects.filter(same, network=network, status__in=live).first()


def refused_again(earlier):
    when = timezone.localtime(earlier.applied_at or earlier.created_at)
    return _(
        "This file, or the same data saved again, was already imported: batch %(id)s, "
        "“%(name)s”, on %(date)s by %(user)s. Undo that batch first if it must be imported again."
    ) % {
        "id": earlier.pk,
        "name": earlier.file_name,
        "date": when.strftime("%d/%m/%Y %H:%M"),
        "user": getattr(earlier.created_by, "username", None) or "—",
    }


def start_batch(data, filename, network, *, user=None):
    """A draft batch for the file (its cells, the header's mapping). Raises BatchRefused when
    the same file was already applied to this network, FileRefused when it cannot be read."""
    sha256 = file_hash(data)
    table = read_cells(data, filename)
    fingerprint = content_fingerprint(table)
    earlier = earlier_batch(network, sha256, fingerprint)
    if earlier is not None:
        raise BatchRefused(refused_again(earlier), earlier)
    header = table[0][1] if table else []
    return ImportBatch.objects.create(
        network=network,
        created_by=user,
        file_name=filename[:255],
        sha256=sha256,
        content_hash=fingerprint,
        table=table,
        mapping=default_mapping(header),
        row_count=max(len(table) - 1, 0),
    )


def plan_batch(batch):
    return plan_table(batch.table, batch.network, batch.mapping)


def apply_batch(batch, *, user=None, include_lines=(), email_receipts=True):
    """Write a draft batch: inline for small files, on the worker for large ones (the batch is
    then RUNNING and shows its progress). The receipts it issues (`imports.receipt_forecast`)
    are emailed unless `email_receipts` is false. Raises BatchRefused."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.DRAFT:
            raise BatchRefused(_("This batch was already applied."))
        earlier = earlier_batch(batch.network, batch.sha256, batch.content_hash)
        if earlier is not None:
            raise BatchRefused(refused_again(earlier), earlier)
        batch.include_lines = sorted(set(include_lines))
        batch.email_receipts = email_receipts
        batch.applied_by = user
        batch.status = ImportBatch.Status.RUNNING
        batch.save(update_fields=["include_lines", "email_receipts", "applied_by", "status"])
        background = batch.row_count > getattr(settings, "IMPORT_BACKGROUND_ROWS", BACKGROUND_ROWS)
        if background:
            batch_id = batch.pk
            transaction.on_commit(lambda: apply_import_batch.enqueue(batch_id))
            return batch
    return run_batch(batch.pk, step_rows=None)


def _save(batch, **fields):
    for name, value in fields.items():
        setattr(batch, name, value)
    batch.save(update_fields=list(fields))


def run_batch(batch_id, step_rows=0):
    """Apply a RUNNING batch in steps of `step_rows` rows (0: the setting, None: all at once),
    one transaction each, saving the progress between them. A step that fails leaves the
    batch FAILED with what was written before it (undo takes that back). Returns the batch."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != ImportBatch.Status.RUNNING:
        return batch
    plan = plan_batch(batch)
    result = {"donors": 0, "gifts": 0, "skipped": 0, "gift_ids": [], "donor_ids": []}
    result["receipts"] = {"issued": 0, "emailed": 0, "missing_data": 0}
    if not plan.is_clean:
        _save(batch, status=ImportBatch.Status.FAILED, error=_("The file has bad rows."))
        return batch
    if step_rows == 0:
        step_rows = getattr(settings, "IMPORT_STEP_ROWS", STEP_ROWS)
    size = step_rows or len(plan.rows)
    try:
        for start in range(0, len(plan.rows), size):
            step = ImportPlan(
                network=plan.network,
                rows=plan.rows[start : start + size],
                matches=plan.matches,
                duplicates=plan.duplicates,
            )
            apply_import(
                step,
                user=batch.applied_by,
                include_lines=batch.include_lines,
                email_receipts=batch.email_receipts,
            )
            for name, count in step.receipts.items():
                result["receipts"][name] += count
            result["gift_ids"] += step.gift_ids
            result["donor_ids"] += step.donor_ids
            result["skipped"] += step.skipped
            result["gifts"], result["donors"] = len(result["gift_ids"]), len(result["donor_ids"])
            _save(batch, progress=start + len(step.rows), result=result)
    except Exception:
        _save(batch, status=ImportBatch.Status.FAILED, error=_("The import stopped on an error."))
        raise
    _save(batch, status=ImportBatch.Status.APPLIED, applied_at=timezone.now())
    return batch


@task()
def apply_import_batch(batch_id):
    """The worker's side of `apply_batch` for a large file."""
    return run_batch(batch_id).status


@transaction.atomic
def undo_batch(batch, *, user=None):
    """Delete the gifts the batch recorded and the donors it created (those with nothing else
    recorded since). Refused once any of its gifts has a receipt (even a voided one: receipts
    are never deleted, nor the gifts they name)."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (ImportBatch.Status.APPLIED, ImportBatch.Status.FAILED):
        raise BatchRefused(_("Only an applied batch can be undone."))
    gifts = Donation.objects.filter(pk__in=batch.gift_ids, network=batch.network)
    if Receipt.objects.filter(donations__in=gifts).exists():
        raise BatchRefused(
            _("Receipts were issued for gifts of this batch: it can no longer be undone.")
        )
    if gifts.filter(refunded_cents__gt=0).exists():
        raise BatchRefused(_("A gift of this batch was refunded: it can no longer be undone."))
    for gift in gifts:
        log(gift, "wagtail.delete", user=user)
    removed = gifts.count()
    gifts.delete()
    new_donors = Donor.objects.filter(pk__in=batch.result.get("donor_ids", []))
    idle = new_donors.filter(
        donations__isnull=True, receipts__isnull=True, recurring_plans__isnull=True
    ).filter(merged_donors__isnull=True, emails__isnull=True)
    for donor in idle:
        log(donor, "wagtail.delete", user=user)
    donors = idle.count()
    Donor.objects.filter(pk__in=list(idle.values_list("pk", flat=True))).delete()
    _save(
        batch,
        status=ImportBatch.Status.UNDONE,
        undone_at=timezone.now(),
        result={**batch.result, "undone": {"gifts": removed, "donors": donors}},
    )
    return batch


def batch_gifts(batch):
    """The gifts the batch recorded that are still there, in order."""
    return list(
        Donation.objects.filter(pk__in=batch.gift_ids, network=batch.network).order_by("pk")
    )


def issue_batch_receipts(
    batch, *, user=None, email=True, include_not_asked=False, include_missing=False
):
    """A receipt for each gift of the batch not yet covered, as
    `receipt_selection.issue_receipts_for` chooses them (by default only where the donor asked
    and the data is there), emailed unless `email` is false."""
    return receipt_selection.issue_receipts_for(
        batch_gifts(batch),
        issued_by=user,
        email=email,
        include_not_asked=include_not_asked,
        include_missing=include_missing,
    )
