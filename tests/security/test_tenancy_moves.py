"""Tenancy moves: which network a story page belongs to decides where its campaigns' gifts and
donors go and who edits it. Only a superuser changes it, and every change recomputes the page
permissions, leaving no grant behind."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from wagtail.models import GroupPagePermission, PageLogEntry
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from campaigns.models import CampaignPage
from cms.forms import ONLY_SUPERUSERS
from cms.models import NetworkPage
from crm.tenancy import MOVE_PAGE

A, B = "oltre-il-ponte", "valle-serena"


@pytest.fixture
def people(demo):
    return {user.username: user for user in get_user_model().objects.all()}


@pytest.fixture
def network_c(demo, network_factory):
    """A third network, with its people's groups but no page yet: where a page could move."""
    return network_factory(slug="rete-terza", name="Rete Terza")


def page_of(network):
    return NetworkPage.objects.get(network=network)


def edit_form(page, network, publish=False):
    """What the admin's edit form posts for a network page, with `network` as chosen."""
    data = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "network": network.pk,
            "tagline": page.tagline,
            "hero_image": page.hero_image_id or "",
            "body": streamfield([]),
            "comments": inline_formset([]),
        }
    )
    if publish:
        data["action-publish"] = "action-publish"
    return data


def grant_holders(page):
    """The groups with rights on the page (and so on everything under it)."""
    return set(GroupPagePermission.objects.filter(page=page).values_list("group__name", flat=True))


def stored_network(page):
    return NetworkPage.objects.get(pk=page.pk).network


def can_edit(page, user):
    """Asked afresh (Wagtail caches a user's page permissions on the user object)."""
    user = get_user_model().objects.get(pk=user.pk)
    return type(page).objects.get(pk=page.pk).permissions_for_user(user).can_edit()


@pytest.mark.parametrize("publish", [False, True], ids=["save-draft", "publish"])
@pytest.mark.parametrize("target", [B, "rete-terza"])
def test_a_communicator_posting_another_network_is_refused(
    client, demo, people, network_c, publish, target
):
    # given A's communicator and A's page, with its campaign
    page = page_of(demo[A])
    campaign = CampaignPage.objects.child_of(page).get()
    before = grant_holders(page)
    client.force_login(people[f"comunicazione-{A}"])
    other = network_c if target == "rete-terza" else demo[B]
    # when they post the page's edit form with another network's id
    response = client.post(f"/admin/pages/{page.pk}/edit/", edit_form(page, other, publish=publish))
    # then the form answers with a clear error, and nothing moves
    assert response.status_code == 200
    with translation.override("it"):
        assert str(ONLY_SUPERUSERS) in response.content.decode()
    assert stored_network(page) == demo[A]
    assert CampaignPage.objects.get(pk=campaign.pk).network == demo[A]
    assert grant_holders(page) == before
    assert other.communicators_group.name not in grant_holders(page)


def test_the_network_field_is_read_only_for_communicators(client, demo, people):
    page = page_of(demo[A])
    client.force_login(people[f"comunicazione-{A}"])
    html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    select = html[html.index('name="network"') - 200 : html.index('name="network"') + 200]
    assert "disabled" in select
    # and a superuser gets it to change
    client.force_login(people["admin"])
    html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()
    select = html[html.index('name="network"') - 200 : html.index('name="network"') + 200]
    assert "disabled" not in select


def test_a_revision_carrying_another_network_moves_nothing(demo, people, network_c):
    # given a revision of A's page that names network C (as a revert or the admin API's
    # actions would produce, bypassing the form)
    page = page_of(demo[A])
    communicator = people[f"comunicazione-{A}"]
    page.network = network_c
    revision = page.save_revision(user=communicator)
    # when it is published
    revision.publish(user=communicator)
    # then the page, its campaign and the grants stay with A
    page = NetworkPage.objects.get(pk=page.pk)
    assert page.network == demo[A]
    assert CampaignPage.objects.child_of(page).get().network == demo[A]
    assert network_c.communicators_group.name not in grant_holders(page)
    assert demo[A].communicators_group.name in grant_holders(page)


def test_a_superuser_moves_the_page_and_the_grants_follow_without_stale_ones(
    client, demo, people, network_c
):
    # given A's page, whose communicators edit it, and network C's communicator
    page = page_of(demo[A])
    campaign = CampaignPage.objects.child_of(page).get()
    communicator_a = people[f"comunicazione-{A}"]
    communicator_c = get_user_model().objects.create_user("comunicazione-rete-terza")
    communicator_c.groups.add(network_c.communicators_group)
    client.force_login(people["admin"])
    # when a superuser assigns the page to C (and publishes)
    response = client.post(f"/admin/pages/{page.pk}/edit/", edit_form(page, network_c, True))
    assert response.status_code == 302
    # then the page and its campaign belong to C, whose communicators edit them, A's no more
    assert stored_network(page) == network_c
    assert CampaignPage.objects.get(pk=campaign.pk).network == network_c
    holders = grant_holders(page)
    assert network_c.communicators_group.name in holders
    assert demo[A].communicators_group.name not in holders
    assert can_edit(campaign, communicator_c) and not can_edit(campaign, communicator_a)
    assert PageLogEntry.objects.filter(page=page, action=MOVE_PAGE).exists()
    # when the superuser undoes it (saving a draft: the network is not revisioned content)
    response = client.post(f"/admin/pages/{page.pk}/edit/", edit_form(page, demo[A]))
    assert response.status_code == 302
    # then everything is back with A and C keeps no grant
    assert stored_network(page) == demo[A]
    holders = grant_holders(page)
    assert demo[A].communicators_group.name in holders
    assert network_c.communicators_group.name not in holders
    assert not GroupPagePermission.objects.filter(group=network_c.communicators_group).exists()
    campaign = CampaignPage.objects.get(pk=campaign.pk)
    assert campaign.network == demo[A]
    assert can_edit(campaign, communicator_a) and not can_edit(campaign, communicator_c)


def test_a_saved_draft_of_a_superuser_does_not_keep_stale_grants(demo, people, network_c):
    # given a superuser's draft of A's page naming C, saved through the model (no form)
    page = page_of(demo[A])
    page.network = network_c
    page.save_revision(user=people["admin"])
    # then the grants follow the page as stored (A), not the draft in memory
    holders = grant_holders(page)
    assert demo[A].communicators_group.name in holders
    assert network_c.communicators_group.name not in holders
