"""`manage.py issue_annual_statements YEAR [--network SLUG] [--entity ID|CF] [--no-email]
[--workers N] [--all-donors]`

One `annual` receipt per donor for the gifts of YEAR not already receipted, then the PDFs, then
the emails (crm.annual_statements). Resumable: after a crash, run it again; covered gifts are
skipped, so nobody gets two statements, and missing PDFs and emails are caught up.

Who gets one follows the admin screen's rules (crm.statement_runs.preview: no codice fiscale,
no address, only cash, or no request where the network sends statements on request only, are
left out and counted); `--all-donors` issues to every donor with uncovered gifts. Before the
year is over it says so on stderr.

By default every entity of every network (or of `--network`) issues its statements, one per
donor and entity; `--entity` (an issuing entity's id or codice fiscale) covers that entity
only, as a statement run from the admin does (issue 26).
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from crm.annual_statements import email_statements, issue_statements, render_statements
from crm.models import IssuingEntity, Network
from crm.statement_runs import preview, year_is_over
from crm.validators import normalise_code


class Command(BaseCommand):
    help = "Issue yearly donation statements (one per donor) for a fiscal year."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--network", help="Only this network (slug).")
        parser.add_argument(
            "--entity",
            help="Only this issuing entity (its id or codice fiscale); default: every entity.",
        )
        parser.add_argument(
            "--no-email", action="store_true", help="Issue without emailing the statements."
        )
        parser.add_argument(
            "--all-donors",
            action="store_true",
            help="Issue to every donor with uncovered gifts, ignoring the preview's rules.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="Render the PDFs here with N processes (default 0: the background task worker "
            "renders them).",
        )

    def handle(self, year, network=None, entity=None, no_email=False, workers=0, **options):
        scope = None
        if network:
            scope = Network.objects.filter(slug=network).first()
            if scope is None:
                raise CommandError(f"No network with slug {network!r}")
        chosen = self._entity(str(entity), scope) if entity is not None else None
        if chosen is not None:
            scope = chosen.network
        if workers < 0:
            raise CommandError("--workers must be 0 or more")
        show = options["verbosity"] > 0
        if not year_is_over(year):
            self.stderr.write(
                f"Warning: {year} is not over yet; gifts received later will need receipts "
                "of their own."
            )
        only = None
        if not options["all_donors"]:
            networks = [scope] if scope else Network.objects.all()
            only, left_out = set(), 0
            for each in networks:
                rows = preview(each, year, chosen)
                only |= rows.eligible_ids
                left_out += len(rows.left_out)
            if left_out:
                self.stdout.write(
                    f"{left_out} donors left out (no codice fiscale, no address, only cash or "
                    "no request); --all-donors includes them."
                )
        issued = issue_statements(
            year,
            scope,
            self._bar("issue") if show else None,
            enqueue_render=workers == 0,
            only=only,
            entity=chosen,
        )
        failed = []
        if workers:
            failed = render_statements(
                year, scope, self._bar("PDF") if show else None, workers=workers, entity=chosen
            )
        queued = 0 if no_email else email_statements(year, scope, entity=chosen)
        self.stdout.write(self.style.SUCCESS(f"{issued} statements issued for {year}."))
        if queued:
            self.stdout.write(f"{queued} emails queued.")
        if failed:
            raise CommandError(
                f"{len(failed)} PDFs failed to render (see the receipts' PDF error); "
                "run the command again to retry them."
            )

    def _entity(self, given, network):
        """The issuing entity named by `given` (an id or a codice fiscale), of `network` if
        given; CommandError (a non-zero exit) for none, several or another network's."""
        code = normalise_code(given)
        match = Q(codice_fiscale=code)
        if given.isdigit() and len(given) < 11:  # a codice fiscale has 11 or 16 characters
            match |= Q(pk=int(given))
        found = list(IssuingEntity.objects.filter(match).select_related("network"))
        if network is not None:
            if found and not any(e.network_id == network.pk for e in found):
                raise CommandError(
                    _("The entity %(entity)s is of another network, not of %(network)s.")
                    % {"entity": given, "network": network.slug}
                )
            found = [e for e in found if e.network_id == network.pk]
        if not found:
            raise CommandError(_("No issuing entity %(entity)s.") % {"entity": given})
        if len(found) > 1:
            raise CommandError(
                _(
                    "More than one issuing entity has codice fiscale %(entity)s: give its id "
                    "or --network."
                )
                % {"entity": given}
            )
        return found[0]

    def _bar(self, label, width=40):
        def show(done, total):
            filled = width * done // total if total else width
            end = "\n" if done == total else ""
            bar = f"{'#' * filled}{'.' * (width - filled)}"
            self.stderr.write(f"\r{label:>5} [{bar}] {done}/{total}", ending=end)
            if sys.stderr.isatty():
                self.stderr.flush()

        return show
