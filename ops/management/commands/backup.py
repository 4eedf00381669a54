"""`manage.py backup FOLDER`: the database and the private files, with a SHA-256 manifest."""

from django.core.management.base import BaseCommand, CommandError

from ops.backups import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Back up the database and the private files (receipts, documents) into a new folder "
        "under FOLDER, with a manifest of every file's size and SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="where to write the backup folder")

    def handle(self, *args, folder, **options):
        try:
            path = make_backup(folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
