"""Backups that restore (ops.backups, `manage.py backup` / `restore`): the database and the
private files round-trip byte for byte, on PostgreSQL (pg_dump/pg_restore into a second, empty
database) and on SQLite (the online backup API), from a folder or from an S3 bucket; a backup
that does not match its manifest is refused before anything is written."""

import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import CommandError, call_command
from django.db import connection
from storages.backends.s3 import S3Storage
from wagtail.models import Collection

from config.settings import s3_private_storage
from crm.models import Receipt
from ops.backups import BackupError, make_backup, restore_backup

from .conftest import KEYS, REGION, make_receipt, s3_client

pytestmark = pytest.mark.django_db(transaction=True)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def receipts(network_factory, django_capture_on_commit_callbacks):
    """Two networks' receipts, rendered and stored (committed: a backup reads what is committed)."""
    if not Collection.objects.exists():  # a transactional test starts from flushed tables
        Collection.add_root(name="Root")
    a = network_factory("rete-a")
    b = network_factory("rete-b", codice_fiscale="97735020584")
    capture = django_capture_on_commit_callbacks
    return [
        make_receipt(a, last_name="Uno", amount_cents=5000, capture=capture),
        make_receipt(a, last_name="Due", amount_cents=12345, capture=capture),
        make_receipt(b, last_name="Tre", amount_cents=700, capture=capture),
    ]


@pytest.fixture
def target_database(tmp_path):
    """A second, empty database of the same kind as the test database, to restore into."""
    source = connection.settings_dict
    if connection.vendor == "sqlite":
        yield {**source, "NAME": str(tmp_path / "restored.sqlite3")}
        return
    name = f"{source['NAME']}_restore"[:63]
    admin = {"dbname": "postgres", "host": source["HOST"] or None, "user": source["USER"] or None}
    if source["PORT"]:
        admin["port"] = source["PORT"]
    if source["PASSWORD"]:
        admin["password"] = source["PASSWORD"]
    with psycopg.connect(**admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    yield {**source, "NAME": name}
    with psycopg.connect(**admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def restored_rows(settings_dict, query):
    """Rows of the restored database, read with the database's own driver (not Django's
    connection, which stays on the test database)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        with sqlite3.connect(settings_dict["NAME"]) as db:
            rows = db.execute(query).fetchall()
        db.close()
        return rows
    params = {
        "dbname": settings_dict["NAME"],
        "host": settings_dict["HOST"] or None,
        "user": settings_dict["USER"] or None,
    }
    if settings_dict["PORT"]:
        params["port"] = settings_dict["PORT"]
    with psycopg.connect(**params) as db:
        return db.execute(query).fetchall()


def storage_of(kind, tmp_path, name, private_bucket=None):
    if kind == "folder":
        return FileSystemStorage(location=tmp_path / name)
    client = s3_client(private_bucket["endpoint"])
    bucket = f"{private_bucket['bucket']}-{name}"[:63]
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    config = s3_private_storage(
        bucket, endpoint_url=private_bucket["endpoint"], region_name=REGION, **KEYS
    )
    return S3Storage(**config["OPTIONS"])


def check_round_trip(receipts, backup, target, restored_storage):
    # then the restored database holds every receipt, with its stored name and SHA-256
    rows = restored_rows(target, "SELECT number, pdf, pdf_sha256 FROM crm_receipt ORDER BY id")
    assert rows == [(r.number, r.pdf.name, r.pdf_sha256) for r in receipts]
    # and every receipt's PDF is back, byte for byte: its SHA-256 is the one the receipt
    # records, and the bytes are the original file's
    for receipt, (_number, name, recorded) in zip(receipts, rows, strict=True):
        with restored_storage.open(name, "rb") as fh:
            data = fh.read()
        with receipt.pdf.open("rb") as fh:
            original = fh.read()
        assert data.startswith(b"%PDF") and sha256(data) == recorded == sha256(original)
        assert data == original
    # and the restored database knows its migrations as the source did
    applied = restored_rows(target, "SELECT app, name FROM django_migrations")
    manifest = json.loads((backup / "manifest.json").read_text())
    assert sorted([list(row) for row in applied]) == manifest["migrations"]


def test_a_backup_holds_the_database_and_every_private_file_with_their_sha256(receipts, tmp_path):
    # when the operator backs up
    backup = make_backup(tmp_path / "backups")
    # then one folder holds the dump, the files and a manifest of all of them
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["format"] == "trama-backup/1" and manifest["trama_version"] == "0.1.0"
    assert manifest["created_at"] and ["crm", "0001_initial"] in manifest["migrations"]
    dump = backup / manifest["database"]["path"]
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["sha256"] == sha256(dump.read_bytes())
    assert manifest["database"]["size"] == dump.stat().st_size
    files = {entry["path"]: entry for entry in manifest["files"]}
    for receipt in receipts:
        entry = files[receipt.pdf.name]
        data = (backup / "files" / receipt.pdf.name).read_bytes()
        assert entry["sha256"] == receipt.pdf_sha256 == sha256(data)
        assert entry["size"] == len(data)


@pytest.mark.parametrize("kind", ["folder", "bucket"])
def test_a_backup_restores_receipts_byte_for_byte(
    kind, receipts, tmp_path, target_database, request
):
    bucket = request.getfixturevalue("private_bucket") if kind == "bucket" else None
    if bucket:  # the receipts were stored before the bucket: put them there, as production has
        for receipt in receipts:
            with open(Path(receipt.pdf.storage.path(receipt.pdf.name)), "rb") as fh:
                storages["private"].save(receipt.pdf.name, fh)
            receipt.pdf.storage = storages["private"]
    # given a backup of the database and of the private storage
    backup = make_backup(tmp_path / "backups")
    # when it is restored into an empty database and an empty private storage
    restored_storage = storage_of(kind, tmp_path, "restored", bucket)
    restore_backup(backup, settings_dict=target_database, storage=restored_storage)
    # then everything is back as it was
    check_round_trip(receipts, backup, target_database, restored_storage)


def tamperings(backup, receipt):
    """Ways a backup folder can differ from its manifest, each a function of its copy."""

    def flip_a_byte_of_a_pdf(folder):
        path = folder / "files" / receipt.pdf.name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        return receipt.pdf.name

    def truncate_the_dump(folder):
        dump = next(p for p in folder.iterdir() if p.name.startswith("database."))
        dump.write_bytes(dump.read_bytes()[:-100])
        return dump.name

    def remove_a_pdf(folder):
        (folder / "files" / receipt.pdf.name).unlink()
        return "missing"

    def add_a_file(folder):
        (folder / "files" / "receipts" / "extra.pdf").write_bytes(b"%PDF extra")
        return "not in the manifest"

    def rewrite_the_manifests_hash(folder):
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"][0]["sha256"] = "0" * 64
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return manifest["files"][0]["path"]

    def a_name_leaving_the_folder(folder):
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"][0]["path"] = "../../etc/evil.pdf"
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return "unsafe file name"

    def forge_a_pdf_and_its_hash(folder):
        # a forger who rewrites a file and the manifest to match: only the signature tells
        forged = b"%PDF forged receipt"
        (folder / "files" / receipt.pdf.name).write_bytes(forged)
        manifest = json.loads((folder / "manifest.json").read_text())
        for entry in manifest["files"]:
            if entry["path"] == receipt.pdf.name:
                entry.update(sha256=sha256(forged), size=len(forged))
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        return "signature does not match"

    def remove_the_signature(folder):
        (folder / "manifest.sig").unlink()
        return "is not signed"

    def break_the_manifest(folder):
        (folder / "manifest.json").write_text("{not json")
        return "not valid JSON"

    return [
        flip_a_byte_of_a_pdf,
        truncate_the_dump,
        remove_a_pdf,
        add_a_file,
        rewrite_the_manifests_hash,
        a_name_leaving_the_folder,
        forge_a_pdf_and_its_hash,
        remove_the_signature,
        break_the_manifest,
    ]


def test_a_tampered_backup_is_refused_and_nothing_is_written(receipts, tmp_path, target_database):
    backup = make_backup(tmp_path / "backups")
    for number, tamper in enumerate(tamperings(backup, receipts[1])):
        # given a copy of the backup, changed after it was made
        copy = tmp_path / f"copy-{number}"
        shutil.copytree(backup, copy)
        said = tamper(copy)
        restored = FileSystemStorage(location=tmp_path / f"restored-{number}")
        # when someone restores it
        with pytest.raises(BackupError) as refused:
            restore_backup(copy, settings_dict=target_database, storage=restored)
        # then it is refused, saying which file is wrong
        assert said in str(refused.value), tamper.__name__
        # and nothing was written: the database is still empty, the storage too
        tables = restored_rows(
            target_database,
            "SELECT name FROM sqlite_master WHERE type='table'"
            if connection.vendor == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
        )
        assert tables == [], tamper.__name__
        assert not (tmp_path / f"restored-{number}").exists(), tamper.__name__


def test_a_backup_made_before_signing_restores_only_when_the_operator_says_so(
    receipts, tmp_path, target_database
):
    # given a backup made before Trama signed its manifests
    backup = make_backup(tmp_path / "backups")
    (backup / "manifest.sig").unlink()
    restored_storage = FileSystemStorage(location=tmp_path / "restored")
    # when restored as any backup, it is refused, and the message says what to do
    with pytest.raises(BackupError, match="--unsigned"):
        restore_backup(backup, settings_dict=target_database, storage=restored_storage)
    # and a file changed in it is still caught with --unsigned
    copy = tmp_path / "copy"
    shutil.copytree(backup, copy)
    (copy / "files" / receipts[0].pdf.name).write_bytes(b"%PDF-1.7 forged")
    with pytest.raises(BackupError, match="does not match its manifest"):
        restore_backup(copy, settings_dict=target_database, storage=restored_storage, unsigned=True)
    # when the operator vouches for it, it restores byte for byte
    restore_backup(backup, settings_dict=target_database, storage=restored_storage, unsigned=True)
    check_round_trip(receipts, backup, target_database, restored_storage)


def test_the_commands_back_up_and_refuse_a_database_that_is_not_empty(receipts, tmp_path):
    # when the operator runs `manage.py backup`
    out = io.StringIO()
    call_command("backup", str(tmp_path / "backups"), stdout=out)
    backup = Path(out.getvalue().strip())
    assert (backup / "manifest.json").exists()
    # and then `manage.py restore` into the database that is running (not empty)
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(backup))
    # then nothing changed
    assert Receipt.objects.count() == len(receipts)


def test_the_restore_command_refuses_a_tampered_backup_with_a_clear_message(receipts, tmp_path):
    backup = make_backup(tmp_path / "backups")
    (backup / "files" / receipts[0].pdf.name).write_bytes(b"%PDF-1.7 forged")
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(backup))
    message = str(refused.value)
    assert "does not match its manifest" in message and "nothing was restored" in message
    assert receipts[0].pdf.name in message


def test_a_new_install_with_no_private_file_yet_backs_up(tmp_path):
    # given a private folder not created yet (no receipt issued so far)
    empty = FileSystemStorage(location=tmp_path / "not-yet")
    # when the nightly backup runs, then it succeeds with the database and no file
    backup = make_backup(tmp_path / "backups", storage=empty)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["files"] == [] and (backup / manifest["database"]["path"]).exists()
