"""The Italian catalogue (locale/it): complete, compiled, and actually used by the site.

The .po is parsed here with a small reader (no polib dependency); the "every source string is
translated" check runs Django's own makemessages on a copy of the sources, so a string added
without an Italian translation fails this file, not a visitor.
"""

import ast
import datetime
import gettext
import re
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

LOCALE_DIR = settings.BASE_DIR / "locale"
PO_PATH = LOCALE_DIR / "it" / "LC_MESSAGES" / "django.po"
MO_PATH = LOCALE_DIR / "it" / "LC_MESSAGES" / "django.mo"
# The same exclusions as the documented makemessages command (docs: translations).
NOT_SCANNED = {".venv", ".tools", "tests", "standin", "bench", "var", "locale"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|%[sd]|\{\w*\}|</?[a-z]+[^>]*>")


def read_po(path):
    """Entries of a .po file as dicts: msgid, msgid_plural, msgctxt, msgstr (index -> text),
    flags. The header (empty msgid) is left out."""
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line or (line.startswith("#") and entry and entry["msgid"] is not None):
            if entry and entry["msgid"] is not None:
                entries.append(entry)
                entry = None
            if not line:
                continue
        entry = entry or {"msgid": None, "msgid_plural": None, "msgctxt": None, "msgstr": {}}
        entry.setdefault("flags", set())
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += text
            else:
                entry[field[0]] += text
        else:
            keyword, _, quoted = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if keyword == "msgstr" or match:
                field = ("msgstr", int(match.group(1)) if match else 0)
                entry["msgstr"][field[1]] = ast.literal_eval(quoted)
            else:
                field = (keyword, None)
                entry[keyword] = ast.literal_eval(quoted)
    return [e for e in entries if e["msgid"]]


def problems(entries):
    """Untranslated, fuzzy, or placeholder-mismatched entries, as readable lines."""
    found = []
    for entry in entries:
        label = repr(entry["msgid"])
        if "fuzzy" in entry["flags"]:
            found.append(f"fuzzy: {label}")
        for index, text in entry["msgstr"].items():
            source = entry["msgid_plural"] if index and entry["msgid_plural"] else entry["msgid"]
            if not text:
                found.append(f"untranslated: {label}")
            elif sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                found.append(f"placeholders differ: {label} -> {text!r}")
    return found


@pytest.fixture(scope="module")
def catalogue():
    return read_po(PO_PATH)


def test_every_entry_of_the_italian_catalogue_is_translated(catalogue):
    assert len(catalogue) > 300
    assert problems(catalogue) == []


def test_plural_entries_have_both_italian_forms(catalogue):
    plurals = [e for e in catalogue if e["msgid_plural"]]
    assert plurals
    for entry in plurals:
        assert sorted(entry["msgstr"]) == [0, 1], entry["msgid"]
    assert "plural=(n != 1)" in PO_PATH.read_text(encoding="utf-8")


def test_the_committed_mo_matches_the_po(catalogue):
    # given the compiled catalogue deployments use (they have no gettext tools)
    with MO_PATH.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)

    # then it holds every translation of the .po, unchanged: run compilemessages after editing
    for entry in catalogue:
        context = f"{entry['msgctxt']}\x04" if entry["msgctxt"] else ""
        if entry["msgid_plural"]:
            assert (
                compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1) == (entry["msgstr"][0])
            )
            assert (
                compiled.ngettext(entry["msgid"], entry["msgid_plural"], 5) == (entry["msgstr"][1])
            )
        else:
            assert compiled.gettext(context + entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_every_string_in_the_sources_has_an_italian_translation(tmp_path):
    # given a copy of the scanned sources and of the Italian catalogue, outside the tree others
    # work in (makemessages writes its temporary files next to the templates it reads)
    for item in settings.BASE_DIR.iterdir():
        if item.name in NOT_SCANNED or item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.copytree(
                item,
                tmp_path / item.name,
                ignore=lambda folder, names: [
                    n
                    for n in names
                    if n == "__pycache__"
                    or n.startswith(".")
                    or ("." in n and n.rsplit(".", 1)[1] not in {"py", "html", "txt"})
                ],
            )
        elif item.suffix in {".py", ".html", ".txt"}:
            shutil.copy(item, tmp_path / item.name)
    copy = tmp_path / "locale" / "it" / "LC_MESSAGES" / "django.po"
    copy.parent.mkdir(parents=True)
    shutil.copy(PO_PATH, copy)

    # when makemessages merges the strings found there into the copy
    subprocess.run(
        [sys.executable, settings.BASE_DIR / "manage.py", "makemessages", "-l", "it"]
        + [f"--ignore={name}" for name in sorted(NOT_SCANNED)]
        + ["--no-obsolete", "--verbosity=0"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )

    # then nothing is new, untranslated or fuzzy (msgid changed): run makemessages, translate
    # locale/it/LC_MESSAGES/django.po, then compilemessages
    assert problems(read_po(copy)) == []


def test_codice_fiscale_check_character_error_is_italian():
    from crm.validators import validate_codice_fiscale, validate_partita_iva

    # Messages are lazy: they are read inside the override, as a request would render them.
    with translation.override("it"):
        with pytest.raises(ValidationError) as bad_cf:
            validate_codice_fiscale("RSSMRA85T10A562T")
        with pytest.raises(ValidationError) as short_cf:
            validate_codice_fiscale("RSSMRA85")
        with pytest.raises(ValidationError) as bad_piva:
            validate_partita_iva("00743110158")

        assert bad_cf.value.messages == [
            "Il carattere di controllo di questo codice fiscale non è corretto: verificalo."
        ]
        assert short_cf.value.messages == [
            "Il codice fiscale ha 16 caratteri (o 11 cifre per gli enti); ne sono stati inseriti 8."
        ]
        assert "cifra di controllo" in bad_piva.value.messages[0]


@pytest.mark.parametrize(
    "text, italian, english",
    [
        ("", "Inserisci un importo.", "Enter an amount."),
        ("-5", "L'importo deve essere maggiore di zero.", "The amount must be more than zero."),
        ("0", "L'importo deve essere maggiore di zero.", "The amount must be more than zero."),
        (
            "dieci",
            "Inserisci un importo in euro, ad esempio 25 o 10,50.",
            "Enter an amount in euro, for example 25 or 10,50.",
        ),
        (
            "10,505",
            "Inserisci un importo in euro con al massimo due decimali (i centesimi), "
            "ad esempio 25 o 10,50.",
            "Enter an amount in euro with at most two decimals (the cents), for example 25 "
            "or 10,50.",
        ),
    ],
)
def test_amount_errors_follow_the_language(text, italian, english):
    from crm.money import parse_amount

    for language, expected in (("it", italian), ("en", english)):
        with translation.override(language):
            with pytest.raises(ValidationError) as excinfo:
                parse_amount(text)
            assert excinfo.value.messages == [expected]


def test_donation_form_labels_are_italian():
    from campaigns.forms import DonationForm

    with translation.override("it"):
        fields = DonationForm.base_fields
        labels = {name: str(fields[name].label) for name in fields}
        choices = [str(label) for _, label in fields["frequency"].choices]

    assert labels["wants_receipt"] == "Desidero una ricevuta valida ai fini fiscali"
    assert labels["other_amount"] == "Altro importo (€)"
    assert labels["postal_code"] == "CAP"
    assert choices == ["Una tantum", "Ogni mese"]


def test_italian_receipt_states_the_law_in_italian(network_factory):
    # given a network under the 30% detraction and a gift by card from an Italian donor
    from crm.models import Donation, Donor
    from crm.pdf import render_html
    from crm.receipts import issue_receipt

    network = network_factory(tax_regime="detraction_30")
    donor = Donor.objects.create(
        network=network, first_name="Mario", last_name="Rossi", codice_fiscale="RSSMRA85T10A562S"
    )
    gift = Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=12050,
        received_on=datetime.date(2026, 3, 14),
        status=Donation.Status.SUCCEEDED,
        method=Donation.Method.CARD,
    )

    # when its receipt is rendered (the HTML the PDF is printed from)
    receipt = issue_receipt([gift], enqueue_render=False)
    html = render_html(receipt)

    # then the legal sentences and labels are Italian, with the law cited as written
    assert "Ricevuta per erogazione liberale" in html
    assert (
        "danno diritto a una detrazione d'imposta del 30% ai sensi dell'art. 83 c.1 "
        "D.Lgs. 117/2017" in html
    )
    assert "Modalità di pagamento" in html
    assert "Carta" in html
    assert "detraction" not in html


def test_italian_pages_show_italian_headings_and_english_pages_english(client, demo):
    # LocaleMiddleware leaves the request's language active in this thread: the override puts
    # the previous one back, so later tests don't run in English.
    with translation.override(settings.LANGUAGE_CODE):
        home = client.get("/")
        network_it = client.get("/oltre-il-ponte/")
        network_en = client.get("/en/oltre-il-ponte/")

    assert home.status_code == network_it.status_code == network_en.status_code == 200
    assert "Le reti" in home.text
    assert "Sostieni le nostre campagne" in network_it.text
    assert "Vai al contenuto" in network_it.text
    assert "Support our campaigns" in network_en.text
    assert "Sostieni le nostre campagne" not in network_en.text
