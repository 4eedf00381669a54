"""Walk every admin page a treasurer and a communicator reach, in Italian and in English, and
read them as those people would: no English strings of ours on the Italian admin (nor Italian
on the English one), no developer values (`None`, `True`, `{}`, cents, ISO dates and times,
a language's code, a storage path) and no UTC times; no English words that are not in our
catalogue either (a column headed by a property's name, "Display name"; Stripe's own texts,
"REFUND FOR CHARGE"), and the names of the files the pages offer are Italian.

Pages are discovered by following links from the admin home (the menu included) and from
every page found, so screens added later are walked too. Each URL shape (numbers replaced by
`N`) is read at most a few times: the walk stays fast with the Django test client.
"""

import csv
import datetime
import hashlib
import html.parser
import io
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import wagtail
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import get_language_info
from wagtail.models import Page
from wagtail.users.models import UserProfile

from campaigns.models import StripeEvent
from campaigns.payouts.models import Payout, PayoutLine
from crm.models import Donation, Donor, DonorEmail, Receipt, RecurringPlan
from tests.test_i18n import PO_PATH, read_po

TREASURER = "tesoreria-oltre-il-ponte"
COMMUNICATOR = "comunicazione-oltre-il-ponte"
# A moment whose UTC clock (23:47) differs from Rome's (00:47 the next day): "23:47" on a
# page is a UTC time.
MOMENT = datetime.datetime(2026, 11, 24, 23, 47, 13, 123456, tzinfo=datetime.UTC)
UTC_CLOCK = "23:47"
CENTS = 1234567  # € 12.345,67: "1234567" on a page is an amount in cents
PER_SHAPE = 2
PDF = b"%PDF-1.4 walk"  # a stored receipt's file: its path is never on a screen
NEVER = (
    "/admin/logout/",
    "/admin/jsi18n/",
    "/admin/login/",
    "/admin/password_reset/",
    "/admin/sprite",
    "/admin/icon",
    "/admin/api/",
)
OUR_APPS = ("crm", "campaigns", "cms", "accounts", "relations", "events", "banking", "fundraising")
# Field names that read the same in both languages (and that Wagtail shows in its own words).
SAME_IN_ITALIAN = {"id", "account", "data", "note"}


@pytest.fixture
def records(demo):
    """A donor of Oltre il Ponte with a plan, a gift, a receipt (its PDF stored), an email and a
    Stripe event, all stamped at MOMENT."""
    network = demo["oltre-il-ponte"]
    donor = Donor.objects.create(
        network=network,
        first_name="Ermenegilda",
        last_name="Rossi",
        email="ermenegilda@example.org",
        codice_fiscale="RSSMRA85T10A562S",
        city="Lecco",
        privacy_accepted_at=MOMENT,
    )
    plan = RecurringPlan.objects.create(
        network=network,
        donor=donor,
        amount_cents=CENTS,
        status=RecurringPlan.Status.PAST_DUE,
        failures=2,
        started_at=MOMENT,
    )
    donation = Donation.objects.create(
        network=network,
        donor=donor,
        amount_cents=CENTS,
        received_on=MOMENT.date(),
        method=Donation.Method.BANK_TRANSFER,
        channel=Donation.Channel.OFFLINE,
        status=Donation.Status.SUCCEEDED,
        recurring_plan=plan,
        donor_details={},
    )
    receipt = Receipt.objects.create(
        network=network,
        year=2026,
        sequence=90001,
        number="OP-2026/90001",
        donor=donor,
        amount_cents=CENTS,
        donor_snapshot={"name": "Ermenegilda Rossi"},
        issued_at=MOMENT,
        pdf_sha256=hashlib.sha256(PDF).hexdigest(),
    )
    receipt.pdf.save("ricevuta.pdf", ContentFile(PDF))
    receipt.donations.add(donation)
    DonorEmail.objects.create(receipt=receipt, to=donor.email)
    StripeEvent.objects.create(
        event_id="evt_walk",
        type="payment_intent.succeeded",
        network=network,
        payload={"data": {"object": {"receipt_email": donor.email}}},
    )
    # A payout with Stripe's own words on its lines, and one that failed with Stripe's English
    # message: the treasurer reads them translated.
    payout = Payout.objects.create(
        network=network,
        stripe_payout_id="po_walk",
        amount_cents=CENTS - 1050,
        arrival_date=MOMENT.date(),
        status=Payout.Status.PAID,
    )
    line = {"payout": payout, "currency": "EUR", "created": MOMENT}
    PayoutLine.objects.create(
        **line,
        balance_transaction_id="txn_walk_1",
        kind=PayoutLine.Kind.GIFT,
        type="charge",
        description="Subscription creation",
        amount_cents=CENTS,
        net_cents=CENTS,
        donation=donation,
    )
    PayoutLine.objects.create(
        **line,
        balance_transaction_id="txn_walk_2",
        kind=PayoutLine.Kind.REFUND,
        type="refund",
        description="REFUND FOR CHARGE (Gift to the network)",
        amount_cents=-1050,
        net_cents=-1050,
    )
    Payout.objects.create(
        network=network,
        stripe_payout_id="po_walk_2",
        amount_cents=5000,
        arrival_date=MOMENT.date(),
        status=Payout.Status.FAILED,
        failure_code="account_closed",
        failure_message="The bank account has been closed.",
    )
    for model in (Donor, Donation, RecurringPlan, Receipt, DonorEmail, StripeEvent, Payout):
        fields = {f.name for f in model._meta.concrete_fields}
        stamps = {name: MOMENT for name in ("created_at", "updated_at") if name in fields}
        if stamps:
            model.objects.update(**stamps)
    return {"donor": donor, "donation": donation, "receipt": receipt}


# --- What the people read -----------------------------------------------------------------------


class PageText(html.parser.HTMLParser):
    """The text a person sees: text nodes outside script/style/template, plus the words of
    buttons, placeholders and titles."""

    HIDDEN = {"script", "style", "template", "noscript", "svg"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    SHOWN_ATTRS = ("placeholder", "title", "aria-label", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.texts = []
        # what text boxes hold (a date picker's "24/11/2026", never "2026-11-24"): content a
        # person typed, so read for machine values only, not for English
        self.values = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth or tag in self.HIDDEN or "hidden" in attrs:
            if tag not in self.VOID:
                self.depth += 1  # inside something hidden, every element nests
            return
        for name in self.SHOWN_ATTRS:
            if attrs.get(name):
                self.texts.append(attrs[name])
        if (
            tag == "input"
            and attrs.get("type", "text") in ("submit", "button")
            and attrs.get("value")
        ):
            self.texts.append(attrs["value"])
        elif tag == "input" and attrs.get("type", "text") == "text" and attrs.get("value"):
            self.values.append(attrs["value"])

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(body):
    parser = PageText()
    parser.feed(body)
    return parser.texts


def box_values(body):
    parser = PageText()
    parser.feed(body)
    return parser.values


def block_labels(body):
    """StreamField block labels, which the admin renders from JSON in the page."""
    return re.findall(r'&quot;label&quot;: ?&quot;([^&]+)&quot;|"label": ?"([^"]+)"', body)


def catalogue():
    """(English msgid → Italian) for our strings whose Italian differs."""
    pairs = {}
    for entry in read_po(PO_PATH):
        if entry["msgid_plural"] or not entry["msgstr"].get(0):
            continue
        english, italian = entry["msgid"], entry["msgstr"][0]
        if english.strip().lower() != italian.strip().lower() and re.search(r"[a-z]{3}", english):
            pairs[english] = italian
    return pairs


def derived_field_names():
    """Labels Django makes up from a field's, a property's or a method's name when we gave it
    none ("Created at", "Display name")."""
    names = set()
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            for name, value in vars(model).items():
                plain = isinstance(value, property) or callable(value)
                if plain and not name.startswith("_") and "_" in name:
                    label = getattr(getattr(value, "fget", value), "short_description", None)
                    if label is None:
                        names.add(name.replace("_", " ").lower())
            for field in model._meta.get_fields():
                verbose = getattr(field, "verbose_name", None)
                if (
                    field.name not in SAME_IN_ITALIAN
                    and isinstance(verbose, str)
                    and verbose == field.name.replace("_", " ")
                ):
                    names.add(verbose.lower())
    return names


WAGTAIL_PO = Path(wagtail.__file__).parent / "admin" / "locale" / "it" / "LC_MESSAGES" / "django.po"
WORD = re.compile(r"[A-Za-zÀ-ÿ]+")
# `%(network)s`, `{{ counter }}`, `<a href=…>`, a quoted English text ("No such subscription")
PLACEHOLDERS = re.compile(r"%\(\w+\)\w|\{\{?[^}]*\}\}?|<[^>]*>|“[^”]*”|&\w+;")


def vocabulary():
    """(English-only words, Italian words), from the msgids and msgstrs of our catalogue and
    Wagtail's: a word of the English side that Italian never uses ("network", "display",
    "refund") is English on an Italian page."""
    english, italian = set(), set()
    for path in (PO_PATH, WAGTAIL_PO):
        for entry in read_po(path):
            source = entry["msgid"] + " " + (entry["msgid_plural"] or "")
            english.update(w.lower() for w in WORD.findall(PLACEHOLDERS.sub(" ", source)))
            for text in entry["msgstr"].values():
                italian.update(w.lower() for w in WORD.findall(PLACEHOLDERS.sub(" ", text)))
    italian |= {"il", "lo", "la", "i", "gli", "le", "un", "una", "di", "a", "da", "in", "con"}
    # each language is offered in its own name ("English" on the Italian account page)
    return english - italian - {"english"}, italian


def english_words_in(text, words):
    """The English words of a short text (a label, a heading, a cell) that reads as English:
    at least as many English-only words as Italian ones, none of it a name or an address."""
    english, italian = words
    if "@" in text or "/" in text or len(text) > 80 or re.fullmatch(r"\w+\.\w+", text):
        return []  # an address, a path, a paragraph, a model's label
    found = [w.lower() for w in WORD.findall(text)]
    if not found:
        return []
    english_found = [w for w in found if w in english and len(w) > 2]
    italian_found = [w for w in found if w in italian]
    if (
        english_found
        and len(english_found) >= len(italian_found)
        and (len(english_found) >= 2 or len(found) <= 2)
    ):
        return english_found
    return []


DEVELOPER_VALUES = {"None", "True", "False", "{}", "[]", "null", "it", "en"}
ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d+|\+00:00|\b\d{4}-\d{2}-\d{2}\b"
)
# Where a file is stored ("receipts/2026/4b1f….pdf"): never on a screen
STORAGE_PATH = re.compile(r"\b[\w-]+/[\w./-]+\.(?:pdf|zip|csv|xlsx|png|jpe?g)\b", re.IGNORECASE)
# A date format in a programmer's code ("%d/%m/%Y"): people write "gg/mm/aaaa".
STRFTIME = re.compile(r"%[dmyYHMSbB]")
CENTS_WORDS = re.compile(r"\(cents\)|centesimi|\bcents\b", re.IGNORECASE)
# Template code on the page: a `{# … #}` comment spanning lines is printed, not dropped.
TEMPLATE_CODE = re.compile(r"\{#|#\}|\{%|%\}|\{\{\s|\s\}\}")


def problems_in(texts, language, strings, words=None):
    found = []
    foreign, derived = strings
    for text in texts:
        if words and (english := english_words_in(text, words)):
            found.append(f"English words {english} in {text!r}")
        if STORAGE_PATH.search(text):
            found.append(f"storage path in {text!r}")
        bare = text.strip(" :*")
        if bare in DEVELOPER_VALUES:
            found.append(f"raw value {bare!r}")
        if re.search(rf"\b{CENTS}\b", text):
            found.append(f"amount in cents in {text!r}")
        if CENTS_WORDS.search(text):
            found.append(f"cents in {text!r}")
        if UTC_CLOCK in text:
            found.append(f"UTC time in {text!r}")
        if ISO_TIME.search(text):
            found.append(f"machine timestamp in {text!r}")
        if bare in foreign:
            found.append(f"{'English' if language == 'it' else 'Italian'} {bare!r}")
        if bare.lower() in derived:
            found.append(f"label made up from a field name: {bare!r}")
        if TEMPLATE_CODE.search(text):
            found.append(f"template code in {text!r}")
        if STRFTIME.search(text):
            found.append(f"a programmer's date format in {text!r}")
    return found


# --- The walk -----------------------------------------------------------------------------------

LINK = re.compile(r"""(?:href|action|data-[\w-]*url|"url")\s*[=:]\s*["'](/admin/[^"'#\s]*)""")


def shape(url):
    parts = urlsplit(url)
    query = "?export" if "export=" in parts.query else ""
    query = query or ("?" + parts.query if "format=" in parts.query else "")
    # a list's "results/" (the same table, fetched by its filters) reads as the list itself
    return re.sub(r"/\d+/", "/N/", parts.path).replace("/results/", "/") + query


def keep(url):
    parts = urlsplit(url)
    if any(parts.path.startswith(prefix) for prefix in NEVER):
        return False
    # filters, ordering and pages of a list show the same words; exports and reports do not
    return not parts.query or "export=" in parts.query or "format=" in parts.query


def attachment_name(response):
    disposition = response.get("Content-Disposition", "")
    match = re.search(r"filename\*=utf-8''([^;]+)|filename=\"?([^\";]+)", disposition, re.I)
    return unquote(match.group(1) or match.group(2)) if match else None


def file_name_problems(name, words):
    """English words in a download's name (`receipts-selection.zip`)."""
    english, _italian = words
    stem = name.rsplit(".", 1)[0]
    return [w for w in re.split(r"[-_.\s]+", stem.lower()) if w in english and len(w) > 2]


def walk(client, start="/admin/", files=None):
    """Every admin page reachable from `start`: {url: (content type, text)}; the names of the
    files offered for download go in `files` ({url: name})."""
    files = {} if files is None else files
    seen_shapes, pages, queue, queued = {}, {}, [start], {start}
    while queue:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code != 200:
            continue
        content_type = response.get("Content-Type", "")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if name := attachment_name(response):
            files[url] = name
        if "text/html" not in content_type and "text/csv" not in content_type:
            continue
        text = body.decode("utf-8-sig")
        pages[url] = (content_type, text)
        if "text/html" not in content_type:
            continue
        for link in LINK.findall(text.replace("&amp;", "&")):
            link = link.replace("\\u002D", "-")
            if link in queued or not keep(link):
                continue
            key = shape(link)
            if seen_shapes.get(key, 0) >= PER_SHAPE:
                continue
            seen_shapes[key] = seen_shapes.get(key, 0) + 1
            queued.add(link)
            queue.append(link)
    return pages


def read_as(client, user, language):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    client.force_login(user)
    pairs = catalogue()
    if language == "it":
        foreign = set(pairs)
    else:  # Italian words also used in English ("Codice fiscale") and content are not ours
        msgids = {entry["msgid"] for entry in read_po(PO_PATH)}
        titles = set(Page.objects.values_list("title", flat=True))
        foreign = set(pairs.values()) - msgids - titles
    # each language is offered in its own name ("English" on the Italian account page)
    foreign -= {get_language_info(code)["name_local"] for code, _name in settings.LANGUAGES}
    derived = derived_field_names() if language == "it" else set()
    words = vocabulary() if language == "it" else None
    files = {}
    pages = walk(client, files=files)
    report = {}
    for url, (content_type, body) in pages.items():
        # Wagtail's own reports keep some English of Wagtail's ("6 content type"): not ours
        words_here = None if url.startswith("/admin/reports/") else words
        if "text/csv" in content_type:
            dialect = csv.Sniffer().sniff(body.splitlines()[0], delimiters=";,")
            rows = list(csv.reader(io.StringIO(body), dialect))
            # columns of codes as stored, for a machine, say so in their heading
            codes = {i for i, h in enumerate(rows[0]) if re.search(r"\((code|codice)\)", h)}
            cells = [c for row in rows for i, c in enumerate(row) if i not in codes]
            found = problems_in(cells, language, (foreign, derived), words_here)
        else:
            labels = [a or b for a, b in block_labels(body)]
            texts = visible_texts(body) + labels
            found = problems_in(texts, language, (foreign, derived), words_here)
            found += problems_in(box_values(body), language, (set(), set()))
        if found:
            report[url] = sorted(set(found))
    for url, name in files.items():
        if url.startswith("/admin/reports/"):
            continue  # Wagtail's own reports ("workflow-tasks.csv")
        if words and (english := file_name_problems(name, words)):
            report.setdefault(url, []).append(f"English words {english} in the file name {name!r}")
    pages.update({url: ("file", name) for url, name in files.items() if url not in pages})
    return pages, report


def format_report(report):
    return "\n".join(f"{url}\n    " + "\n    ".join(found) for url, found in report.items())


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("username", [TREASURER, COMMUNICATOR])
def test_admin_speaks_the_users_language(client, demo, records, username, language):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    pages, report = read_as(client, user, language)
    # the walk did reach the screens of the role (a walk that finds nothing proves nothing)
    reached = {shape(url) for url in pages}
    if username == TREASURER:
        assert {
            "/admin/crm/donations/inspect/N/",
            "/admin/crm/receipts/inspect/N/",
            "/admin/crm/donors/inspect/N/",
            "/admin/crm/payouts/inspect/N/",
            "/admin/crm/payouts/N/report/",
            "/admin/crm/payouts/N/report/?format=csv",
        } <= (reached), sorted(reached)
    else:
        assert any(s.startswith("/admin/pages/N/edit/") for s in reached), sorted(reached)
    assert not report, f"{len(report)} of {len(pages)} pages:\n" + format_report(report)


def test_the_walk_catches_english_machine_values_and_file_names(monkeypatch):
    """What the treasurer's walk found: a column headed by a property's name, Stripe's own
    words, an ISO date in a date box, a language's code, a storage path, a programmer's date
    format in a box, an English file name."""
    words = vocabulary()
    # the donors' list headed its names "Display name" while the property had no label
    monkeypatch.delattr(Donor.display_name.fget, "short_description")
    derived = derived_field_names()
    page = (
        "<th>Display name</th><th>Network</th><td>Subscription creation</td>"
        "<td>REFUND FOR CHARGE (Gift to the network)</td><dd>it</dd>"
        "<dd>receipts/2026/4b1f0c.pdf</dd><input type='text' value='2026-11-24'>"
        "<input type='text' value='%d/%m/%Y'>"
    )
    texts = visible_texts(page) + box_values(page)
    assert len(texts) == 8, texts
    for text in texts:  # each is caught
        assert problems_in([text], "it", (set(), derived), words), text
    assert file_name_problems("receipts-selection.zip", words) == ["receipts", "selection"]
    assert not file_name_problems("ricevute-selezionate-2026-11-24.zip", words)
    # and lets Italian, names and addresses be
    italian = "<th>Nome</th><td>Emma Walsh</td><td>Rimborso</td><td>emma@example.org</td>"
    assert not problems_in(visible_texts(italian), "it", (set(), derived), words)


def test_the_walk_catches_what_it_looks_for():
    """The checks themselves find an English label, a raw value, cents and a UTC time."""
    strings = ({"Donor"}, {"created at"})
    texts = visible_texts(
        "<p>Donor</p><td>None</td><td>1234567</td><p>25/11/2026 23:47</p>"
        "<th>Created at</th><script>var x = 'Donor';</script><p>Importo (centesimi)</p>"
        "<p>{# a note for developers #}</p>"
    )
    found = problems_in(texts, "it", strings)
    assert len(found) == 7, found
    # the site's clock (Europe/Rome; tests run further east to make UTC stand out) is not UTC
    assert timezone.localtime(MOMENT).strftime("%H:%M") != UTC_CLOCK
    assert settings.TIME_ZONE != "UTC"
