"""The site stylesheet written into pages (cms.stylesheet, issue 21): the page's <style> and the
hash in its policy come from the same read of the file, read again when the file changes."""

import base64
import hashlib
import os

import pytest
from wagtail.images import get_image_model

from cms import stylesheet
from cms.templatetags.first_paint import first_image, first_picture


def _hash(text):
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def test_the_stylesheet_and_its_hash_follow_the_file(tmp_path):
    # given a stylesheet with a comment and indentation
    css = tmp_path / "site.css"
    css.write_text("/* a note */\nbody {\n  margin: 0;\n}\n")
    # then what goes into the page is its rules, and the hash is of exactly that text
    text, source = stylesheet.read(css)
    assert text == "body {\nmargin: 0;\n}"
    assert source == _hash(text)
    # and read again, unchanged, the same
    assert stylesheet.read(css) == (text, source)
    # when the file changes, the page and the policy change together
    css.write_text("body { margin: 1px; }\n")
    stat = css.stat()
    os.utime(css, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    changed, changed_source = stylesheet.read(css)
    assert changed == "body { margin: 1px; }"
    assert changed_source == _hash(changed) != source


def test_a_stylesheet_that_would_end_the_style_element_is_refused(tmp_path):
    css = tmp_path / "bad.css"
    css.write_text('a::after { content: "</style><script>"; }')
    try:
        stylesheet.read(css)
    except ValueError as refused:
        assert "</" in str(refused)
    else:
        raise AssertionError("a '</' inside <style> was accepted")


@pytest.mark.django_db
def test_a_first_image_whose_file_is_missing_renders_as_wagtails_own_tag_does():
    # given an image whose original file is gone (a restored database without its media)
    image = get_image_model().objects.create(
        title="Gone", file="original_images/gone.png", width=1200, height=800
    )
    # then the page still renders: Wagtail's 'not-found' image, linked, not a 500
    html = first_image(image, "fill-640x360|format-webp")
    assert 'src="/media/not-found"' in html
    picture = first_picture(image, "fill-800x333", "fill-1200x500", "100vw")
    assert "not-found" in picture
