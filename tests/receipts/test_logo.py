"""A network's logo on its receipts: printed in the header, at print resolution whatever the
size of the file uploaded (a large upload would make every receipt slow and heavy)."""

import io
import subprocess
import tempfile
import uuid

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from wagtail.images import get_image_model

from crm.receipts import issue_receipt

pytestmark = pytest.mark.django_db


def _png(width, height):
    image = Image.new("RGB", (width, height), "white")
    for x in range(0, width, 7):  # not a flat colour, so the file has a real size
        for y in range(0, height, 5):
            image.putpixel((x, y), (x % 256, 90, y % 256))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _images_in(pdf):
    """(width, height) of each image in the PDF, as poppler's `pdfimages -list` reads them."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        listing = subprocess.run(
            ["pdfimages", "-list", fh.name], capture_output=True, check=True, text=True
        ).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    return [(int(row[3]), int(row[4])) for row in rows if row[2] == "image"]


@pytest.mark.parametrize(
    ("uploaded", "printed"),
    [((2400, 1200), (520, 260)), ((400, 150), (400, 150))],
    ids=["large upload", "small upload"],
)
def test_the_logo_prints_at_print_resolution_whatever_was_uploaded(
    network, donor_factory, gift_factory, pdf_text, uploaded, printed
):
    from crm.receipt_files import read_receipt_pdf

    # Given a network whose logo was uploaded as a PNG of `uploaded` pixels
    network.logo = get_image_model().objects.create(
        title="Logo",
        file=ContentFile(_png(*uploaded), name=f"logo-{uuid.uuid4().hex[:8]}.png"),
        collection=network.collection,
    )
    network.save()
    # When a gift is receipted
    receipt = issue_receipt([gift_factory(donor_factory())])
    pdf = read_receipt_pdf(receipt)
    # Then the receipt carries the logo once, no larger than its box at 300 dpi (50 x 22 mm:
    # 591 x 260 px), its proportions kept, and a small upload as it was
    assert _images_in(pdf) == [printed]
    assert len(pdf) < 120_000
    # and says what it said before
    text = pdf_text(receipt)
    assert "Cooperativa Sociale Il Ponte ETS" in text
    assert receipt.number in text
