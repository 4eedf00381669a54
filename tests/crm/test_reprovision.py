"""An upgrade gives existing networks' groups the permissions of screens added since."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from crm.models import Network

pytestmark = pytest.mark.django_db


def test_migrate_gives_existing_treasurers_the_new_permissions():
    network = Network.objects.create(name="Rete Vecchia", slug="rete-vecchia")
    importing = Permission.objects.get(content_type__app_label="crm", codename="add_importbatch")
    # As if the network had been provisioned before imports existed.
    network.treasurers_group.permissions.remove(importing)
    assert not network.treasurers_group.permissions.filter(pk=importing.pk).exists()

    call_command("migrate", verbosity=0)

    assert network.treasurers_group.permissions.filter(pk=importing.pk).exists()
