"""What a phone paints first comes with the page itself (issue 21; cms.stylesheet says why):
the stylesheet inline (its hash in the CSP), and a page's first, largest image, when small, as
a `data:` address (the policy's `img-src` allows `data:`), so the largest paint needs no second
round trip."""

import base64

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from wagtail.images.shortcuts import get_rendition_or_not_found, get_renditions_or_not_found

from cms import stylesheet

register = template.Library()

# Larger first images are linked as usual (eager, high priority): past this size the bytes
# cost more on a slow link than the round trip they save, and the page cache holds them.
INLINE_IMAGE_BYTES = 12 * 1024
MIME = {"webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png", "avif": "image/avif"}


@register.simple_tag
def inline_stylesheet():
    """The site's stylesheet in a <style> element (its exact text is hashed in the CSP)."""
    text, _hash = stylesheet.inline()
    return mark_safe(f"<style>{text}</style>")  # noqa: S308 (our own file, checked for '</')


# A rendition's file never changes under its name (Wagtail names it by image and filter), so
# its address is kept (bounded: the first images of the pages being served).
_addresses: dict[str, str | None] = {}


def _data_address(file, kind):
    address = _addresses.get(file.name, "")
    if address == "":
        with file.storage.open(file.name, "rb") as opened:
            body = opened.read(INLINE_IMAGE_BYTES + 1)
        address = None
        if len(body) <= INLINE_IMAGE_BYTES:
            address = f"data:{kind};base64,{base64.b64encode(body).decode('ascii')}"
        if len(_addresses) >= 128:
            _addresses.clear()
        _addresses[file.name] = address
    return address


@register.simple_tag
def first_image(image, spec, alt="", css_class=""):
    """The page's first image (its largest paint on a phone): `spec` as Wagtail filters joined
    by '|' (e.g. "fill-640x360|format-webp"), eager and first in the browser's queue; its bytes
    in the page when the rendition is small."""
    # A missing original file gives Wagtail's 'not-found' image, as its own {% image %} does.
    return _first_img(get_rendition_or_not_found(image, spec), alt, css_class)


def _first_img(rendition, alt, css_class):
    kind = MIME.get(rendition.file.name.rsplit(".", 1)[-1].lower())
    source = None
    if kind:
        try:
            source = _data_address(rendition.file, kind)
        except OSError:  # a missing file: the address, as any image
            source = None
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}"{} fetchpriority="high" decoding="sync">',
        source or rendition.url,
        rendition.width,
        rendition.height,
        alt,
        format_html(' class="{}"', css_class) if css_class else "",
    )


@register.simple_tag
def first_picture(image, spec, wide_specs, sizes, alt="", css_class=""):
    """`first_image` for phones inside a <picture> whose wider screens (over 30rem) choose from
    `wide_specs` (comma-separated specs, as `spec`) by `sizes`, fetched as usual."""
    wide = [s.strip() for s in wide_specs.split(",")]
    # All in one go: Wagtail opens and decodes the original once for the renditions it lacks.
    renditions = get_renditions_or_not_found(image, [spec, *wide])
    srcset = ", ".join(f"{renditions[s].url} {renditions[s].width}w" for s in wide)
    return format_html(
        '<picture><source media="(min-width: 30rem)" srcset="{}" sizes="{}">{}</picture>',
        srcset,
        sizes,
        _first_img(renditions[spec], alt, css_class),
    )
