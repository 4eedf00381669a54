"""The CRM in the Wagtail admin, one module per screen; `crm.wagtail_hooks` registers them.

Deliberately empty: `django.contrib.admin` is installed, so its autodiscovery imports this
package at start-up. Nothing here may import the screens or register anything.

    common   what every screen shares: tenancy guard, scoped index/form/viewset, donor chooser
    donors, gifts, plans, receipts   a ModelViewSet each, with its own views
    imports, exports                 the gift import and the treasurer's exports (mounted by gifts)
    dashboard                        the admin home panel
    menu                             the "CRM" menu group that holds the four viewsets
"""
