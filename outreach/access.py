"""Who reaches a network's outreach screens: its treasurers and its communicators."""

from crm.models import Network


def networks_for(user):
    """The networks whose donors the user may segment: as treasurer or as communicator."""
    if not user.is_authenticated or not user.is_active:
        return Network.objects.none()
    if user.is_superuser:
        return Network.objects.all()
    return (Network.objects.for_user(user) | Network.objects.edited_by(user)).distinct()
