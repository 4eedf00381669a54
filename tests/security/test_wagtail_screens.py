"""Wagtail's own screens, walked as network A's people with network B's ids and names.

The CRM's screens are walked in tests/crm/test_isolation.py. Around them, Wagtail's own admin
(reports and the site history with its export, the page chooser and search, the admin API,
the image and document choosers, bulk-action confirmations, document downloads) must not tell
A's treasurer or communicator anything of B: no donor name, no draft page title, no staff
username, no document or image title, and never a 500.
"""

import io
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.log_actions import log
from wagtail.models import Page

from cms.models import NetworkPage, StandardPage
from crm.models import Donation, Donor
from crm.offline import record_offline_gift
from crm.privacy import anonymise_donor

A, B = "oltre-il-ponte", "valle-serena"
# What B holds and A must never read.
B_DONOR = ("Ermenegildo", "Quaglierini")
B_DRAFT = "Bozza riservata Tarquinio"  # a page never published
B_DRAFT_RETITLE = "Titolo in bozza Ildebrando"  # a live page's unpublished new title
B_DOCUMENT = "Verbale riservato Fulgenzio"
B_IMAGE = "Foto riservata Gaudenzio"
B_STAFF = ("tesoreria-valle-serena", "comunicazione-valle-serena")
SECRETS = (*B_DONOR, B_DRAFT, B_DRAFT_RETITLE, B_DOCUMENT, B_IMAGE, *B_STAFF)
# A donor's name that a spreadsheet would run as a formula.
FORMULA_NAME = '=HYPERLINK("http://evil.example","x")'

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def people(demo):
    return {user.username: user for user in get_user_model().objects.all()}


def _network_page(network):
    return NetworkPage.objects.get(network=network)


def _gift(network, donor, treasurer):
    return record_offline_gift(
        network=network,
        donor=donor,
        amount_cents=12_345,
        received_on=timezone.localdate(),
        method=Donation.Method.BANK_TRANSFER,
        wants_receipt=True,
        recorded_by=treasurer,
    )


@pytest.fixture
def network_b(demo, people):
    """B's secrets, each leaving its trace in Wagtail's history as B's own people would."""
    network = demo[B]
    treasurer, communicator = people[B_STAFF[0]], people[B_STAFF[1]]
    donor = Donor.objects.create(network=network, first_name=B_DONOR[0], last_name=B_DONOR[1])
    log(donor, "wagtail.create", user=treasurer)
    gift = _gift(network, donor, treasurer)  # logs the gift and the receipt it issues
    home = _network_page(network)
    draft = home.add_child(instance=StandardPage(title=B_DRAFT, slug="bozza", live=False))
    draft.save_revision(user=communicator, log_action=True)
    home.title = B_DRAFT_RETITLE
    home.save_revision(user=communicator, log_action=True)
    document = get_document_model().objects.create(
        title=B_DOCUMENT,
        file=ContentFile(b"verbale: riservato", name=f"verbale-{uuid.uuid4().hex[:8]}.txt"),
        collection=network.collection,
        uploaded_by_user=communicator,
    )
    log(document, "wagtail.create", user=communicator)
    image = get_image_model().objects.create(
        title=B_IMAGE,
        file=ContentFile(PNG, name=f"foto-{uuid.uuid4().hex[:8]}.png"),
        collection=network.collection,
        uploaded_by_user=communicator,
    )
    log(image, "wagtail.create", user=communicator)
    yield {
        "donor": donor,
        "gift": gift,
        "receipt": gift.receipts.get(),
        "home": Page.objects.get(pk=home.pk),
        "draft": draft,
        "document": document,
        "image": image,
    }
    document.file.delete(save=False)
    image.file.delete(save=False)


@pytest.fixture
def network_a(demo, people):
    """A's own history: a gift and its receipt (a receipt entry in range once made the site
    history answer 500)."""
    network = demo[A]
    donor = Donor.objects.create(network=network, first_name="Amalia", last_name="Adda")
    log(donor, "wagtail.create", user=people[f"tesoreria-{A}"])
    gift = _gift(network, donor, people[f"tesoreria-{A}"])
    return {"donor": donor, "gift": gift, "receipt": gift.receipts.get()}


def text_of(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content.startswith(b"PK"):  # an XLSX: read its cells back
        sheet = load_workbook(io.BytesIO(content), read_only=True).active
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for row in sheet.iter_rows(values_only=True)
        )
    return content.decode("utf-8", errors="replace")


def wagtail_urls(b, people):
    """Wagtail's own URLs, with B's ids and B's names as search terms."""
    draft, home, doc, image = b["draft"].pk, b["home"].pk, b["document"].pk, b["image"].pk
    ids = f"id={draft}&id={home}"
    document_model = get_document_model()._meta
    urls = [
        # reports, the site history and its exports
        "/admin/reports/site-history/",
        "/admin/reports/site-history/results/",
        f"/admin/reports/site-history/?label={B_DONOR[1][:6]}",
        f"/admin/reports/site-history/?label={B_DRAFT[:10]}",
        f"/admin/reports/site-history/?user={people[B_STAFF[0]].pk}",
        f"/admin/reports/site-history/?user={people[B_STAFF[1]].pk}",
        "/admin/reports/site-history/?export=csv",
        "/admin/reports/site-history/?export=xlsx",
        "/admin/reports/page-types-usage/",
        "/admin/reports/page-types-usage/results/",
        "/admin/reports/aging-pages/",
        "/admin/reports/aging-pages/?export=csv",
        "/admin/reports/locked/",
        "/admin/reports/workflow/",
        "/admin/reports/workflow_tasks/",
        # the page chooser, its search, the page search and explorer
        "/admin/choose-page/",
        f"/admin/choose-page/{home}/",
        f"/admin/choose-page/{draft}/",
        "/admin/choose-page/?page_type=cms.standardpage",
        f"/admin/choose-page/search/?q={B_DRAFT[:10]}",
        f"/admin/choose-page/search/?q={B_DRAFT_RETITLE[:10]}",
        f"/admin/choose-page/chosen-multiple/?{ids}",
        f"/admin/pages/search/?q={B_DRAFT[:10]}",
        f"/admin/pages/{home}/",
        f"/admin/pages/{draft}/edit/",
        f"/admin/pages/{draft}/history/",
        f"/admin/pages/{draft}/usage/",
        # the admin API
        f"/admin/api/main/pages/?search={B_DRAFT[:10]}",
        f"/admin/api/main/pages/?child_of={home}",
        f"/admin/api/main/pages/{draft}/",
        f"/admin/api/main/pages/{home}/",
        "/admin/api/main/images/",
        f"/admin/api/main/images/{image}/",
        f"/admin/api/main/images/?search={B_IMAGE[:10]}",
        "/admin/api/main/documents/",
        f"/admin/api/main/documents/{doc}/",
        f"/admin/api/main/documents/?search={B_DOCUMENT[:10]}",
        # images and documents: listings, choosers, usage
        "/admin/images/",
        f"/admin/images/?q={B_IMAGE[:10]}",
        "/admin/images/chooser/",
        f"/admin/images/chooser/results/?q={B_IMAGE[:10]}",
        f"/admin/images/chooser/chosen/{image}/",
        f"/admin/images/chooser/{image}/select_format/",
        f"/admin/images/usage/{image}/",
        f"/admin/images/{image}/",
        "/admin/documents/",
        f"/admin/documents/?q={B_DOCUMENT[:10]}",
        "/admin/documents/chooser/",
        f"/admin/documents/chooser/results/?q={B_DOCUMENT[:10]}",
        f"/admin/documents/chooser/chosen/{doc}/",
        f"/admin/documents/usage/{doc}/",
        f"/admin/documents/edit/{doc}/",
        # bulk-action confirmations with B's ids
        *(f"/admin/bulk/wagtailcore/page/{a}/?{ids}" for a in ("delete", "publish", "unpublish")),
        f"/admin/bulk/wagtailcore/page/move/?{ids}",
        *(
            f"/admin/bulk/wagtailimages/image/{a}/?id={image}"
            for a in ("delete", "add_tags", "add_to_collection")
        ),
        *(
            f"/admin/bulk/{document_model.app_label}/{document_model.model_name}/{a}/?id={doc}"
            for a in ("delete", "add_tags", "add_to_collection")
        ),
        # the download itself
        b["document"].url,
    ]
    return urls


@pytest.mark.parametrize("who", [f"tesoreria-{A}", f"comunicazione-{A}"])
def test_wagtail_screens_show_nothing_of_another_network(client, people, network_a, network_b, who):
    # given B's donor, drafts, document and image, each in Wagtail's history, and A's own
    # receipt in the same range
    client.force_login(people[who])
    # when A's treasurer or communicator walks Wagtail's own screens with B's ids and names
    for url in wagtail_urls(network_b, people):
        response = client.get(url)
        # then nothing answers 500 and nothing of B is in the answer
        assert response.status_code < 500, url
        text = text_of(response)
        for secret in SECRETS:
            assert secret not in text, (url, secret)


def test_bulk_actions_with_another_networks_ids_change_nothing(client, people, network_b):
    # given B's draft and its live page
    client.force_login(people[f"comunicazione-{A}"])
    ids = f"id={network_b['draft'].pk}&id={network_b['home'].pk}"
    # when A's communicator confirms bulk publish, unpublish and delete of them
    for action in ("publish", "unpublish", "delete"):
        response = client.post(f"/admin/bulk/wagtailcore/page/{action}/?{ids}")
        assert response.status_code < 500, action
    # then B's pages are as they were
    draft = Page.objects.get(pk=network_b["draft"].pk)
    home = Page.objects.get(pk=network_b["home"].pk)
    assert not draft.live and home.live and home.draft_title == B_DRAFT_RETITLE


def test_a_draft_document_does_not_download_anonymously(client, network_b):
    # given a document of B that no published page uses
    document = network_b["document"]
    # when a stranger asks for it by its download URL, or under the public media URL
    response = client.get(document.url)
    media = client.get(f"/media/{document.file.name}")
    # then neither serves the file
    assert response.status_code in (302, 403, 404)
    assert b"riservato" not in b"".join(getattr(response, "streaming_content", [response.content]))
    assert media.status_code == 404


def test_a_document_used_by_a_live_page_downloads_for_everyone(client, people, network_b):
    # given B's communicator links the document from B's live network page and publishes it
    document = network_b["document"]
    home = NetworkPage.objects.get(pk=network_b["home"].pk)
    home.title = "Comunità Valle Serena"
    home.body = [("paragraph", f'<p><a linktype="document" id="{document.pk}">verbale</a></p>')]
    home.save_revision(user=people[B_STAFF[1]]).publish()
    # when anyone downloads it
    response = client.get(document.url)
    # then it is served, through Wagtail's view
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"verbale: riservato"


def test_a_document_linked_only_from_a_draft_stays_private(client, people, network_b):
    # given B's live page, whose unpublished draft links the document
    document = network_b["document"]
    home = NetworkPage.objects.get(pk=network_b["home"].pk)
    home.body = [("paragraph", f'<p><a linktype="document" id="{document.pk}">verbale</a></p>')]
    home.save_revision(user=people[B_STAFF[1]])
    # when a stranger downloads it, then it is not there
    assert client.get(document.url).status_code == 404


def test_page_types_usage_counts_only_visible_pages(client, people, demo, network_b):
    # given B's pages (a draft among them) and A's communicator
    client.force_login(people[f"comunicazione-{A}"])
    # when they open the page types usage report
    response = client.get("/admin/reports/page-types-usage/")
    counts = {item.model: item.count for item in response.context["object_list"]}
    # then each count is of A's pages only, and no last edited page is B's
    own = Page.objects.descendant_of(_network_page(demo[A]), inclusive=True)
    theirs = Page.objects.descendant_of(network_b["home"], inclusive=True)
    assert counts["standardpage"] == own.type(StandardPage).count()
    assert counts["networkpage"] == 1
    assert not theirs.filter(
        pk__in=[
            i.last_edited_page.pk for i in response.context["object_list"] if i.last_edited_page
        ]
    ).exists()


def test_the_networks_own_people_download_its_draft_documents(client, people, network_b):
    client.force_login(people[B_STAFF[1]])
    response = client.get(network_b["document"].url)
    assert response.status_code == 200


def test_site_history_shows_a_treasurer_their_own_network(client, people, network_a, network_b):
    # the positive control: A's treasurer sees A's donor, gift and receipt entries, and the
    # receipt entry links somewhere that exists
    client.force_login(people[f"tesoreria-{A}"])
    response = client.get("/admin/reports/site-history/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Amalia Adda" in text and network_a["receipt"].number in text
    assert B_DONOR[1] not in text and f">{network_b['receipt'].number}<" not in text
    inspect = reverse("crm_receipt:inspect", args=[network_a["receipt"].pk])
    assert inspect in text


def test_site_history_shows_a_communicator_their_own_pages_and_files(client, people, network_b):
    client.force_login(people[B_STAFF[1]])
    text = client.get("/admin/reports/site-history/").content.decode()
    assert B_DRAFT in text and B_DOCUMENT in text and B_IMAGE in text
    assert B_DONOR[1] not in text


def test_the_page_chooser_still_leads_a_communicator_to_their_pages(client, people, demo):
    client.force_login(people[f"comunicazione-{A}"])
    home = _network_page(demo[A]).get_parent()
    text = client.get(f"/admin/choose-page/{home.pk}/").content.decode()
    assert "Oltre il Ponte" in text and "Valle Serena" not in text


def test_a_document_uploaded_in_the_admin_lands_on_the_private_storage(client, people, demo):
    # given A's communicator uploading a document to A's collection
    client.force_login(people[f"comunicazione-{A}"])
    name = f"bilancio-{uuid.uuid4().hex[:8]}.txt"
    response = client.post(
        "/admin/documents/add/",
        {
            "title": "Bilancio sociale",
            "file": SimpleUploadedFile(name, b"bilancio"),
            "collection": demo[A].collection_id,
        },
    )
    assert response.status_code == 302
    document = get_document_model().objects.get(title="Bilancio sociale")
    # then the file is nowhere under the public media folder, and downloads through the view
    assert not default_storage.exists(document.file.name)
    assert client.get(f"/media/{document.file.name}").status_code == 404
    response = client.get(document.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"bilancio"
    document.file.delete(save=False)


def test_superusers_see_everything_and_no_500(client, people, network_a, network_b):
    client.force_login(people["admin"])
    for url in (
        "/admin/reports/site-history/",
        "/admin/reports/site-history/?export=csv",
        "/admin/reports/page-types-usage/",
        "/admin/choose-page/search/?q=Bozza",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    text = client.get("/admin/reports/site-history/").content.decode()
    assert B_DONOR[1] in text and "Amalia Adda" in text and B_DRAFT in text


def test_site_history_export_neutralises_formulas(client, people, demo):
    # given a donor whose name a spreadsheet would run, in A's history
    donor = Donor.objects.create(network=demo[A], first_name=FORMULA_NAME, last_name="")
    log(donor, "wagtail.create", user=people[f"tesoreria-{A}"])
    client.force_login(people[f"tesoreria-{A}"])
    # when A's treasurer exports the site history
    csv_text = text_of(client.get("/admin/reports/site-history/?export=csv"))
    xlsx_text = text_of(client.get("/admin/reports/site-history/?export=xlsx"))
    # then the name is there, as text
    assert "'" + FORMULA_NAME.replace('"', '""') in csv_text
    assert "\n" + FORMULA_NAME not in csv_text and "," + FORMULA_NAME not in csv_text
    assert "'" + FORMULA_NAME in xlsx_text


def test_anonymising_a_donor_rewrites_their_name_in_the_history(client, people, network_b):
    # given B's donor, named in the history
    client.force_login(people["admin"])
    assert B_DONOR[1] in client.get("/admin/reports/site-history/").content.decode()
    # when the donor is anonymised
    anonymise_donor(network_b["donor"], user=people[B_STAFF[0]])
    # then no entry of the history, nor its export, names them, even to a superuser
    for url in ("/admin/reports/site-history/", "/admin/reports/site-history/?export=csv"):
        text = text_of(client.get(url))
        assert B_DONOR[0] not in text and B_DONOR[1] not in text, url
    assert client.get(f"/admin/reports/site-history/?label={B_DONOR[1]}").status_code == 200


def test_page_report_exports_neutralise_formulas(client, people, demo):
    # given a page of A whose title a spreadsheet would run, locked by its communicator
    communicator = people[f"comunicazione-{A}"]
    page = demo[A].page.add_child(instance=StandardPage(title=FORMULA_NAME, slug="formula-title"))
    page.save_revision(user=communicator).publish()
    page.locked, page.locked_by = True, communicator
    # (aging pages lists pages last published a while ago)
    page.last_published_at = timezone.now() - timezone.timedelta(days=400)
    page.save()
    client.force_login(people["admin"])
    # when the aging-pages and locked-pages reports are exported
    for report in ("aging-pages", "locked"):
        for export in ("csv", "xlsx"):
            text = text_of(client.get(f"/admin/reports/{report}/?export={export}"))
            # then the title is there, as text
            assert "'" + FORMULA_NAME.replace('"', '""' if export == "csv" else '"') in text, (
                report,
                export,
            )
