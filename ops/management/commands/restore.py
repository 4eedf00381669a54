"""`manage.py restore BACKUP`: a backup folder into an empty database and the private storage."""

from django.core.management.base import BaseCommand, CommandError

from ops.backups import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup folder made by `manage.py backup` into the configured database, "
        "which must be empty, and the configured private storage. Every file's SHA-256 is "
        "checked first: a tampered or damaged backup is refused and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the backup folder (trama-backup-...)")
        parser.add_argument(
            "--unsigned",
            action="store_true",
            help="accept a backup with no manifest.sig (made before Trama signed its manifests); "
            "every file is still checked against the manifest",
        )

    def handle(self, *args, backup, unsigned, **options):
        try:
            manifest = restore_backup(backup, unsigned=unsigned)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} (Trama {manifest['trama_version']}): "
            f"the database and {len(manifest['files'])} files. "
            "Run `manage.py migrate` if this Trama is newer."
        )
