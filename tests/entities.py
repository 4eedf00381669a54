"""A partner entity for tests of networks with several issuing entities (issue 26)."""


def partner_entity(network, **extra):
    """The network's partner: a social cooperative with its own receipt series "CP"."""
    from crm.models import IssuingEntity, Network

    fields = {
        "legal_name": "Cooperativa sociale Il Ponte",
        "codice_fiscale": "01234560157",
        "entity_kind": Network.EntityKind.SOCIAL_ENTERPRISE,
        "street_address": "Via Manzoni 3",
        "postal_code": "23900",
        "city": "Lecco",
        "province": "LC",
        "signer_name": "Luca Bianchi",
        "receipt_series": "CP",
    }
    return IssuingEntity.objects.create(network=network, **{**fields, **extra})
