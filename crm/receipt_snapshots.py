"""What a receipt freezes at issue: the donor's and the issuing entity's details as printed,
kept on the receipt so a later change of either never alters a receipt already issued."""

from typing import Any

from .models import Donor, IssuingEntity, Network


def donor_snapshot(donor: Donor) -> dict[str, str]:
    if donor.kind == Donor.Kind.ORGANISATION and donor.organisation_name:
        name = donor.organisation_name
    else:
        name = f"{donor.first_name} {donor.last_name}".strip() or donor.email
    province = f" ({donor.province})" if donor.province else ""
    locality = f"{donor.postal_code} {donor.city}".strip()
    address = ", ".join(p for p in (donor.street_address, locality + province) if p.strip())
    if address and donor.country and donor.country != "IT":
        address = f"{address}, {donor.country}"
    return {
        "kind": donor.kind,
        "name": name,
        "email": donor.email,
        "codice_fiscale": donor.codice_fiscale,
        "partita_iva": donor.partita_iva,
        "address": address,
        "language": donor.language,
    }


def entity_snapshot(entity: IssuingEntity) -> dict[str, Any]:
    """The issuing entity's details as the receipt prints them (frozen at issue)."""
    return {
        "legal_name": entity.legal_name,
        "codice_fiscale": entity.codice_fiscale,
        "partita_iva": entity.partita_iva,
        "kind": entity.entity_kind,
        "kind_label": str(Network.EntityKind(entity.entity_kind).label),
        "runts_number": entity.runts_number,
        "tax_regime": entity.tax_regime,
        "address": entity.full_address,
        "city": entity.city,
        "signer_name": entity.signer_name,
        "signer_role": entity.signer_role,
        "logo_id": entity.logo_id,
        # With the file name, the renderer caches the logo without a query (crm.pdf).
        "logo_file": entity.logo.file.name if entity.logo_id and entity.logo else "",
        "email": entity.email,
    }
