"""Backups that restore: the database and the private files, with a manifest of SHA-256s.

`make_backup(folder)` writes one new folder `trama-backup-<UTC time>/` holding:
- `database.dump` (PostgreSQL: `pg_dump --format=custom`) or `database.sqlite3` (SQLite: the
  sqlite3 online backup API, a consistent copy while the site runs);
- `files/<name>`: every file of the private storage (receipts' PDFs, documents), read from
  whatever it is (a folder or an S3 bucket);
- `manifest.json`: when, which Trama and which migrations, and the size and SHA-256 of the
  dump and of every file;
- `manifest.sig`: the manifest's HMAC-SHA256 with BACKUP_SIGNING_KEY (default: SECRET_KEY), so
  that whoever can write the backup's folder cannot forge a file and the manifest with it.

`restore_backup(folder, database=..., storage=...)` checks everything before writing anything:
the manifest's signature and format, every file's size and SHA-256, no file missing nor added,
migrations this code knows, an empty target database and no different file already in the
target storage. Only then does it load the dump (`pg_restore`, or the SQLite backup API) and
write the files.

Entry points: `manage.py backup` and `manage.py restore` (ops/management/commands).
"""

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

import psycopg
from django.conf import settings
from django.core.files import File
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from crm.storage import private_storage

FORMAT = "trama-backup/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FILES = "files"
DUMP_NAMES = ("database.dump", "database.sqlite3")
CHUNK = 1024 * 1024
# pg_dump and pg_restore get this long before the backup fails (a big database takes minutes).
PG_TIMEOUT = 6 * 3600


class BackupError(Exception):
    """A backup cannot be made, or a backup folder cannot be restored (the message says why)."""


def sha256_of(fh):
    digest = hashlib.sha256()
    size = 0
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def trama_version():
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


# --- Backup -------------------------------------------------------------------------------------


def make_backup(folder, *, database="default", storage=None, now=None):
    """Write a new backup under `folder`; return its path. `storage`: the private storage
    (default: the configured one)."""
    storage = storage or private_storage()
    now = now or timezone.now()
    target = Path(folder) / f"trama-backup-{now.strftime('%Y%m%dT%H%M%S%fZ')}"
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True)
    try:
        connection = connections[database]
        # The database first, the files after: a receipt's PDF is stored before the row that
        # records its SHA-256 commits, so every PDF the dump names is already there to copy
        # (a file newer than the dump is copied too, harmlessly unreferenced).
        dump = dump_database(connection, partial)
        with open(dump, "rb") as fh:
            dump_sha, dump_size = sha256_of(fh)
        files = [copy_out(storage, name, partial / FILES) for name in walk(storage)]
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "trama_version": trama_version(),
            "migrations": applied_migrations(connection),
            "database": {
                "vendor": connection.vendor,
                "path": dump.name,
                "size": dump_size,
                "sha256": dump_sha,
            },
            "files": files,
        }
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        (partial / MANIFEST).write_text(text)
        (partial / SIGNATURE).write_text(sign_manifest(text.encode()) + "\n")
        # Complete or absent: a backup interrupted half-way never looks like a good one.
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target


def walk(storage, folder=""):
    """Every file name in the storage, sorted (works for a folder and for an S3 bucket)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a new install's private folder, before its first file
        return []
    names = [str(PurePosixPath(folder, name)) if folder else name for name in files]
    for sub in folders:
        names.extend(walk(storage, str(PurePosixPath(folder, sub)) if folder else sub))
    return sorted(names)


def copy_out(storage, name, root):
    path = safe_path(root, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with storage.open(name, "rb") as src, open(path, "wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return {"path": name, "size": size, "sha256": digest.hexdigest()}


def safe_path(root, name):
    """`root/name`, refusing a name that would leave root (`..`, absolute paths): a manifest
    is data from a folder that may have been tampered with."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupError(f"unsafe file name in the backup: {name!r}")
    return Path(root).joinpath(*relative.parts)


def applied_migrations(connection):
    recorder = MigrationRecorder(connection)
    return sorted([app, name] for app, name in recorder.applied_migrations())


def dump_database(connection, folder):
    if connection.vendor == "postgresql":
        path = folder / "database.dump"
        run_pg("pg_dump", connection.settings_dict, ["--format=custom", f"--file={path}"])
        return path
    if connection.vendor == "sqlite":
        path = folder / "database.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
        copy.close()
        return path
    raise BackupError(f"backups of a {connection.vendor} database are not supported")


def run_pg(program, settings_dict, args):
    """Run pg_dump/pg_restore on the database of `settings_dict`, the password in the
    environment (never on the command line, which `ps` shows to every user)."""
    env = {**os.environ}
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    options = settings_dict.get("OPTIONS", {})
    for var, key in (("PGSSLMODE", "sslmode"), ("PGSSLROOTCERT", "sslrootcert")):
        if options.get(key):
            env[var] = str(options[key])
    command = [program, *args, f"--dbname={settings_dict['NAME']}"]
    try:
        result = subprocess.run(  # noqa: S603 (fixed program, our own arguments)
            command, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT, check=False
        )
    except FileNotFoundError as exc:
        raise BackupError(f"{program} is not installed (Debian: postgresql-client)") from exc
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()}")


# --- Restore ------------------------------------------------------------------------------------


def sign_manifest(data: bytes) -> str:
    """The manifest's HMAC-SHA256 (hex) with BACKUP_SIGNING_KEY, or SECRET_KEY if unset."""
    key = (settings.BACKUP_SIGNING_KEY or settings.SECRET_KEY).encode()
    return hmac.new(b"trama-backup-manifest:" + key, data, hashlib.sha256).hexdigest()


def check_signature(folder, *, unsigned=False):
    """Refuse a manifest that is not signed, or not with this install's key. `unsigned`: the
    operator vouches for a backup made before Trama signed its manifests (December 2026); a
    signature that is there is still checked."""
    try:
        signature = (folder / SIGNATURE).read_text().strip()
    except FileNotFoundError as exc:
        if unsigned:
            return
        raise BackupError(
            f"{folder / MANIFEST} is not signed (no {SIGNATURE}): nothing was restored "
            "(a backup made before Trama signed its manifests: `manage.py restore --unsigned`)"
        ) from exc
    if not hmac.compare_digest(signature, sign_manifest((folder / MANIFEST).read_bytes())):
        raise BackupError(
            f"{folder / MANIFEST}: its signature does not match (the manifest was changed, or "
            "signed with another BACKUP_SIGNING_KEY); nothing was restored"
        )


def read_manifest(folder):
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} is not a Trama backup: no {MANIFEST}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{folder / MANIFEST} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{folder / MANIFEST}: not a {FORMAT} manifest")
    return manifest


def verify_backup(folder, *, unsigned=False):
    """Check the backup against its manifest; return the manifest, or raise BackupError naming
    every file that is missing, added, or not what the manifest says."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    problems = []
    database = manifest.get("database") or {}
    if database.get("path") not in DUMP_NAMES:
        raise BackupError(f"{folder / MANIFEST}: no database dump named")
    expected = {database["path"]: database}
    for entry in manifest.get("files", []):
        safe_path(folder / FILES, entry["path"])  # refuses `..` and absolute names
        expected[f"{FILES}/{entry['path']}"] = entry
    present = {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.name not in (MANIFEST, SIGNATURE)
    }
    for relative, entry in sorted(expected.items()):
        path = folder / relative
        if relative not in present:
            problems.append(f"{relative}: missing")
            continue
        with open(path, "rb") as fh:
            sha, size = sha256_of(fh)
        if (sha, size) != (entry.get("sha256"), entry.get("size")):
            problems.append(
                f"{relative}: SHA-256 {sha} ({size} bytes), the manifest says "
                f"{entry.get('sha256')} ({entry.get('size')} bytes)"
            )
    problems += [f"{relative}: not in the manifest" for relative in sorted(present - set(expected))]
    if problems:
        raise BackupError(
            "the backup does not match its manifest (tampered with or damaged); "
            "nothing was restored:\n  " + "\n  ".join(problems)
        )
    # Last, so a damaged file is named first; a manifest rewritten to match a forged file is
    # caught here.
    check_signature(folder, unsigned=unsigned)
    return manifest


def check_migrations_known(manifest):
    """A backup from a newer Trama cannot be restored by older code: it would not know the
    tables. (From an older one: restore, then `manage.py migrate`.)"""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    unknown = [f"{app}.{name}" for app, name in manifest.get("migrations", [])]
    unknown = [m for m in unknown if tuple(m.split(".", 1)) not in loader.disk_migrations]
    if unknown:
        raise BackupError(
            f"the backup comes from a newer Trama ({manifest.get('trama_version')}): this code "
            f"does not know its migrations {', '.join(unknown[:5])}; upgrade first"
        )


def restore_backup(folder, *, settings_dict=None, storage=None, unsigned=False):
    """Restore the backup in `folder` into the (empty) database `settings_dict` (default: the
    default database's settings) and the private storage `storage` (default: the configured
    one). Verifies everything first; raises BackupError and writes nothing if anything is off."""
    folder = Path(folder)
    settings_dict = settings_dict or connections["default"].settings_dict
    storage = storage or private_storage()
    manifest = verify_backup(folder, unsigned=unsigned)
    check_migrations_known(manifest)
    vendor = manifest["database"]["vendor"]
    engine_vendor = settings_dict["ENGINE"].rsplit(".", 1)[-1].replace("sqlite3", "sqlite")
    if vendor != engine_vendor:
        raise BackupError(f"the backup holds a {vendor} database; the target is {engine_vendor}")
    check_database_empty(vendor, settings_dict)
    files = manifest["files"]
    check_storage_free(storage, files)

    dump = folder / manifest["database"]["path"]
    if vendor == "postgresql":
        run_pg(
            "pg_restore",
            settings_dict,
            ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(dump)],
        )
    else:
        with sqlite3.connect(dump) as source, sqlite3.connect(settings_dict["NAME"]) as target:
            source.backup(target)
        source.close()
        target.close()
    for entry in files:
        if storage.exists(entry["path"]):
            continue  # the same bytes (check_storage_free made sure)
        with open(safe_path(folder / FILES, entry["path"]), "rb") as fh:
            saved = storage.save(entry["path"], File(fh))
        if saved != entry["path"]:
            raise BackupError(f"{entry['path']} was stored as {saved}")
    return manifest


def check_database_empty(vendor, settings_dict):
    if vendor == "postgresql":
        params = {
            "dbname": settings_dict["NAME"],
            "user": settings_dict.get("USER") or None,
            "password": settings_dict.get("PASSWORD") or None,
            "host": settings_dict.get("HOST") or None,
            "port": settings_dict.get("PORT") or None,
        }
        try:
            with psycopg.connect(**{k: v for k, v in params.items() if v}) as db:
                tables = db.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                ).fetchone()[0]
        except psycopg.Error as exc:
            raise BackupError(f"cannot reach the target database: {exc}") from exc
    else:
        path = Path(settings_dict["NAME"])
        if not path.exists():
            return
        with sqlite3.connect(path) as db:
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
        db.close()
        tables = tables[0]
    if tables:
        raise BackupError(
            f"the target database {settings_dict['NAME']} is not empty ({tables} tables): "
            "restore only into a new, empty database"
        )


def check_storage_free(storage, files):
    """No file of the backup may land on a different file of the same name already stored."""
    clashes = []
    for entry in files:
        if storage.exists(entry["path"]):
            with storage.open(entry["path"], "rb") as fh:
                if sha256_of(fh)[0] != entry["sha256"]:
                    clashes.append(entry["path"])
    if clashes:
        raise BackupError(
            "the private storage already holds different files under these names; "
            "nothing was restored: " + ", ".join(clashes[:5])
        )
