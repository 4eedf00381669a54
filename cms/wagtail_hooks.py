from wagtail import hooks

from .viewsets import NetworkViewSet


@hooks.register("register_admin_viewset")
def register_network_viewset():
    return NetworkViewSet("networks")
