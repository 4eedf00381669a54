"""Importing WeasyPrint (on a process's first PDF, `crm.pdf.weasyprint`) turns on Pillow's
LOAD_TRUNCATED_IMAGES for the whole process. Before its import was made lazy that happened at
start-up; after, a cut-off picture (an interrupted upload, a damaged file) was shown in part by a
process that had made a PDF and failed the page or the upload with a 500 in one that had not.
A test passed or failed by the order it ran in. The answer is now the same in every process."""

import io
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def _cut_off_png():
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(picture, "PNG")
    return picture.getvalue()[:-40]  # the end of its data and IEND missing


CHECK = """
import django, io, sys
django.setup()
from PIL import Image
assert "weasyprint" not in sys.modules, "WeasyPrint is imported on first use only"
Image.open(io.BytesIO(sys.stdin.buffer.read())).load()
print("read")
"""


def test_a_process_that_made_no_pdf_reads_a_cut_off_picture():
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", CHECK],
        input=_cut_off_png(),
        capture_output=True,
        cwd=settings.BASE_DIR,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.strip() == b"read"


@pytest.mark.django_db
def test_a_cut_off_picture_is_taken_before_and_after_a_pdf():
    from wagtail.images.forms import get_image_form
    from wagtail.images.models import Image as WagtailImage

    from crm import pdf

    form_class = get_image_form(WagtailImage)

    def upload():
        file = SimpleUploadedFile("foto.png", _cut_off_png(), "image/png")
        return form_class(data={"title": "Foto"}, files={"file": file}).is_valid()

    before = upload()
    pdf.weasyprint()
    assert upload() is before is True
