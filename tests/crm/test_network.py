"""The issuing entity's legal data is validated; a network gets its groups on creation."""

import pytest
from django.core.exceptions import ValidationError

from crm.models import Network
from crm.validators import validate_codice_fiscale, validate_partita_iva


@pytest.mark.parametrize(
    "value, code",
    [
        ("", "required"),
        ("   ", "required"),
        ("RSSMRA85T10A562", "length"),  # 15 characters
        ("9201234001", "length"),  # 10 digits
        ("RSSMRA85T10A562T", "checksum"),  # wrong check character (S is right)
        ("92012340012", "checksum"),  # numeric code, wrong check digit
        ("RSSMRA85Z10A562S", "invalid"),  # Z is not a month letter
    ],
)
def test_bad_codice_fiscale_gives_a_clear_error(value, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_codice_fiscale(value)
    assert excinfo.value.code == code
    assert str(excinfo.value.messages[0])  # a sentence, not an empty message


@pytest.mark.parametrize(
    "value",
    [
        "RSSMRA85T10A562S",
        "rssmra85t10a562s",
        " RSSMRA 85T10 A562S ",
        "92012340011",
        "RSSMRA85T10A56NH",
    ],  # the last is an omocodia variant (digits replaced by letters)
)
def test_good_codice_fiscale_passes(value):
    validate_codice_fiscale(value)


def test_codice_fiscale_error_is_translated():
    from django.utils import translation

    with translation.override("it"):
        with pytest.raises(ValidationError) as excinfo:
            validate_codice_fiscale("RSSMRA85T10A562T")
        # messages are lazy: read them while Italian is active
        assert "carattere di controllo" in excinfo.value.messages[0]


def test_partita_iva_check_digit():
    validate_partita_iva("IT00743110157")
    with pytest.raises(ValidationError):
        validate_partita_iva("00743110158")


def test_network_with_bad_codice_fiscale_is_refused(db):
    network = Network(
        slug="x",
        name="X",
        legal_name="X ETS",
        codice_fiscale="RSSMRA85T10A562T",
        entity_kind=Network.EntityKind.APS,
        street_address="Via 1",
        postal_code="20100",
        city="Milano",
        signer_name="A B",
    )
    with pytest.raises(ValidationError) as excinfo:
        network.full_clean()
    assert "codice_fiscale" in excinfo.value.message_dict


def test_new_network_gets_its_groups_and_collection(network_factory):
    network = network_factory("rete-nuova")
    assert network.communicators_group.name.endswith("comunicazione")
    assert network.treasurers_group.permissions.filter(codename="view_donation").exists()
    assert network.collection.name == network.name
