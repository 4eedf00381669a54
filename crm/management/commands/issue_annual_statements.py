"""`manage.py issue_annual_statements YEAR [--network SLUG] [--no-email]`

One `annual` receipt per donor for the gifts of YEAR not already receipted. Resumable: after a
crash, run it again; covered gifts are skipped, so nobody gets two statements.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from crm.models import Network
from crm.receipts import issue_annual_statements


class Command(BaseCommand):
    help = "Issue yearly donation statements (one per donor) for a fiscal year."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--network", help="Only this network (slug).")
        parser.add_argument(
            "--no-email", action="store_true", help="Issue without emailing the statements."
        )

    def handle(self, year, network=None, no_email=False, **options):
        scope = None
        if network:
            scope = Network.objects.filter(slug=network).first()
            if scope is None:
                raise CommandError(f"No network with slug {network!r}")
        show = options["verbosity"] > 0
        issued = issue_annual_statements(
            year, network=scope, progress=self._progress if show else None, email=not no_email
        )
        if show:
            self.stderr.write("")
        self.stdout.write(self.style.SUCCESS(f"{issued} statements issued for {year}."))

    def _progress(self, done, total, width=40):
        filled = width * done // total if total else width
        end = "\n" if not sys.stderr.isatty() and done == total else ""
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending=end)
