"""The emptying after transactional tests (tests/fast_flush.py) leaves what Django's flush
leaves: the same tables empty, the same content types and permissions, whatever the test did."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from tests import fast_flush


def state():
    """Rows per table, and the content types and permissions by their natural keys."""
    counts = {}
    with connection.cursor() as cursor:
        for table in fast_flush._tables(connection):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    types = sorted(ContentType.objects.values_list("app_label", "model"))
    permissions = sorted(
        Permission.objects.values_list(
            "content_type__app_label", "content_type__model", "codename", "name"
        )
    )
    return counts, types, permissions


def write_everywhere(network_factory, django_user_model):
    network = network_factory()
    user = django_user_model.objects.create_user("tesoriere", password="x")
    group = Group.objects.create(name="Tesorieri")
    group.permissions.add(Permission.objects.first())
    user.groups.add(group)
    return network


@pytest.mark.django_db(transaction=True)
def test_emptying_leaves_what_django_flush_leaves(network_factory, django_user_model):
    fast_flush.empty(connection)  # Django's flush the first time in a process, then quick
    call_command("flush", verbosity=0, interactive=False)
    flushed = state()
    assert flushed[1] and flushed[2], "post_migrate made content types and permissions"

    write_everywhere(network_factory, django_user_model)
    assert fast_flush.empty_quickly(connection), "the quick way, not Django's flush"
    assert state() == flushed

    # A test that changes what post_migrate made gets it made again.
    write_everywhere(network_factory, django_user_model)
    Permission.objects.filter(codename="add_group").update(name="Changed")
    ContentType.objects.create(app_label="elsewhere", model="thing")
    assert fast_flush.empty_quickly(connection)
    assert state() == flushed


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_use_it():
    from django.test import TransactionTestCase

    assert TransactionTestCase._fixture_teardown is fast_flush._fixture_teardown
