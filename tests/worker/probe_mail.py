"""A mail backend for tests that looks, while an email is being handed to it, whether the
sender holds a transaction open or a lock on the email's row (it must hold neither)."""

from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, connections

from crm.models import DonorEmail

seen = []


def row_is_free(email_id):
    """Another connection takes the row's lock at once (PostgreSQL's NOWAIT raises if not)."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            table = other.ops.quote_name(DonorEmail._meta.db_table)
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [email_id])  # noqa: S608
        return True
    except Exception:  # noqa: BLE001  (LockNotAvailable: the sender holds it)
        return False
    finally:
        other.close()


class ProbeBackend(EmailBackend):
    def send_messages(self, messages):
        for message in messages:
            email_id = int(getattr(message, "metadata", {}).get("receipt_email", 0))
            free = row_is_free(email_id) if connection.vendor == "postgresql" else None
            seen.append({"in_transaction": connection.in_atomic_block, "row_free": free})
        return super().send_messages(messages)
