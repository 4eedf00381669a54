"""The background side of the yearly statements started from the admin: the task the worker
runs for a `StatementRun`, and the verbs that queue it (crm.statement_runs does the work)."""

from django.db import transaction
from django.tasks import task

from .models import StatementRun
from .statement_runs import carry_out


@task()
def run_yearly_statements(run_id):
    """Carry out (or take up again) one run for at most STATEMENT_RUN_SECONDS, then queue the
    next slice. A finished run, or one another worker holds, is left alone, so running the
    task twice is harmless."""
    run = StatementRun.objects.select_related("network", "entity").filter(pk=run_id).first()
    if run is None or run.finished:
        return None
    state = carry_out(run)
    if state == "more":
        run_yearly_statements.enqueue(run.pk)
    return state


def start_run(network, year, user, *, entity=None, send_email=True):
    """A new run of the statements of `year` of `entity` of `network` (None: its lead entity),
    queued for the worker after commit."""
    entity = entity or network.lead_entity
    if entity.network_id != network.pk:
        raise ValueError("the entity is another network's")
    with transaction.atomic():
        run = StatementRun.objects.create(
            network=network, entity=entity, year=year, started_by=user, send_email=send_email
        )
        transaction.on_commit(lambda: run_yearly_statements.enqueue(run.pk))
    return run


def resume_run(run):
    """Queue a stopped run again: it skips what is done and issues no second number."""
    transaction.on_commit(lambda: run_yearly_statements.enqueue(run.pk))
