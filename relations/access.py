"""Who reaches a network's relationship screens: its communicators and its treasurers (the
people who ask, and the people who count). Linking a gift to an instalment and the funder
report (which shows gifts) are the treasurers' (see `relations.wagtail_hooks`)."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from crm.models import Donation, Network, NetworkScopedQuerySet
from crm.tenancy import policy_for


def networks_for(user):
    """The networks whose relationships the user reaches: as treasurer or as communicator."""
    if not user.is_authenticated or not user.is_active:
        return Network.objects.none()
    if user.is_superuser:
        return Network.objects.all()
    return (Network.objects.for_user(user) | Network.objects.edited_by(user)).distinct()


def money_networks(user):
    """The networks whose gifts the user sees and ties to instalments: those they are a
    treasurer of. A communicator here who is another network's treasurer is a communicator
    here (the treasurer's permissions are that other network's)."""
    return policy_for(Donation).networks_for(user)


def sees_gifts_of(user, network) -> bool:
    """True if the user reads `network`'s gifts (its funder reports, its money figures)."""
    return (
        policy_for(Donation).user_has_permission(user, "view")
        and money_networks(user).filter(pk=network.pk).exists()
    )


def people_of(networks):
    """The users of `networks` (their communicators and treasurers): who may own an ask."""
    groups = Q(groups__communicator_of__in=networks) | Q(groups__treasurer_of__in=networks)
    return get_user_model().objects.filter(groups, is_active=True).distinct().order_by("username")


class MembersQuerySet(NetworkScopedQuerySet):
    def for_user(self, user):
        """Rows of the networks the user reaches as treasurer or communicator."""
        return self.filter(network__in=networks_for(user))
