"""A message's blocks as email HTML (one column, inline styles: mail apps drop <style>) and as
plain text, for `outreach.rendering`: rich text, images, key figures and buttons, with links to
our own site marked for attribution (`tracked`: the marker is filled per delivery with
`?m=<token>`, or removed for a preview)."""

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from wagtail.rich_text import expand_db_html

IMAGE_RENDITION = "width-600"

# The attribution markers `tracked` leaves in a link (see `outreach.rendering`).
_M_FIRST, _M_MORE = "\x01m?\x01", "\x01m&\x01"

# Inline styles (mail apps drop <style> sheets).
FONT = "font-family: Helvetica, Arial, sans-serif;"
TEXT_STYLE = f"{FONT} font-size: 16px; line-height: 1.55; color: #1a1a1a; margin: 0 0 16px;"
STYLES = {
    "p": TEXT_STYLE,
    "h3": f"{FONT} font-size: 19px; line-height: 1.3; color: #1a1a1a; margin: 24px 0 8px;",
    "ul": f"{TEXT_STYLE} padding-left: 24px;",
    "ol": f"{TEXT_STYLE} padding-left: 24px;",
    "li": "margin: 0 0 6px;",
    "a": "color: #0b5cad; text-decoration: underline;",
}
BUTTON_COLOUR = "#0b5cad"


def _site():
    return settings.SITE_URL


def _own_site(url):
    site = urlsplit(_site())
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.netloc == site.netloc


def absolute(url):
    """Our relative links and media made absolute (an email has no base address)."""
    if url.startswith("/") and not url.startswith("//"):
        return _site() + url
    return url


def tracked(url):
    """`url` with the attribution marker if it is one of our own pages (filled per delivery
    with `?m=<token>`, or removed for a preview)."""
    url = absolute(url)
    if not _own_site(url):
        return url
    base, hash_, fragment = url.partition("#")
    marker = _M_MORE if "?" in base else _M_FIRST
    return f"{base}{marker}{hash_}{fragment}"


_TAG = re.compile(r"<(p|h3|ul|ol|li)(\s[^>]*)?>")
_HREF = re.compile(r'<a\s([^>]*?)href="([^"]*)"([^>]*)>')
_BLOCK_KEY = re.compile(r'\sdata-block-key="[^"]*"')


def email_rich_text(source):
    """Wagtail rich text (database form) as email HTML: page links expanded to absolute
    addresses (our own ones tracked), an inline style on every element."""
    markup = _BLOCK_KEY.sub("", expand_db_html(source))
    markup = _TAG.sub(lambda m: f'<{m.group(1)} style="{STYLES[m.group(1)]}">', markup)

    def link(match):
        href = tracked(html.unescape(match.group(2)))
        return f'<a href="{escape(href)}" style="{STYLES["a"]}">'

    return _HREF.sub(link, markup)


class _TextWriter(HTMLParser):
    """Rich text as plain text: paragraphs apart, list items with a dash, links written out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.href = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.href = dict(attrs).get("href")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "a" and self.href:
            self.parts.append(f" ({self.href})")
            self.href = None
        elif tag in ("p", "h3", "ul", "ol"):
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)

    def text(self):
        lines = "".join(self.parts).split("\n")
        return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in lines)).strip()


def rich_text_to_text(markup):
    writer = _TextWriter()
    writer.feed(markup)
    writer.close()
    return writer.text()


def _image(value):
    image = value["image"]
    if image is None:
        return "", ""
    rendition = image.get_rendition(IMAGE_RENDITION)
    alt = getattr(image, "contextual_alt_text", None) or ""
    src = absolute(rendition.url)
    caption = " ".join(
        p for p in (value.get("caption"), value.get("credit") and "© " + value["credit"]) if p
    )
    markup = (
        f'<img src="{escape(src)}" alt="{escape(alt)}" width="{min(rendition.width, 600)}"'
        ' style="display: block; width: 100%; max-width: 600px; height: auto; border: 0;'
        ' margin: 0 0 8px;">'
    )
    if caption:
        style = f"{FONT} font-size: 13px; color: #555; margin: 0 0 16px;"
        markup += f'<p style="{style}">{escape(caption)}</p>'
    text = f"[{alt or _('Image')}]" + (f" {caption}" if caption else "")
    return markup, text


def _key_figures(value):
    # Equal columns: sized by their labels, the figures looked scattered across the row.
    width = f"{100 // max(len(value['figures']), 1)}%"
    cells = "".join(
        f'<td width="{width}" style="width: {width}; padding: 8px; text-align: center;'
        ' vertical-align: top;">'
        f'<div style="{FONT} font-size: 26px; font-weight: bold; color: #0b5cad;">'
        f"{escape(item['figure'])}</div>"
        f'<div style="{FONT} font-size: 14px; color: #333;">{escape(item["label"])}</div></td>'
        for item in value["figures"]
    )
    title = value.get("title") or ""
    markup = (f'<h3 style="{STYLES["h3"]}">{escape(title)}</h3>' if title else "") + (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"'
        f' style="border-collapse: collapse; margin: 0 0 16px;"><tr>{cells}</tr></table>'
    )
    text = "\n".join(
        ([title] if title else [])
        + [f"{item['figure']}  {item['label']}" for item in value["figures"]]
    )
    return markup, text


def button_url(value):
    page = value.get("page")
    if page is not None:
        # The page's own path on SITE_URL (one site): with Wagtail's full URL a Site configured
        # under another host name (the demo's `localhost`) would lose the attribution marker.
        url = page.specific.url or ""
        return tracked(url) if url else ""
    return tracked(value.get("url") or "")


def _button(value):
    url = button_url(value)
    if not url:
        return "", ""
    label = escape(value["label"])
    # A "bulletproof" button: a table cell with the colour, so it shows in every mail app.
    markup = (
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0"'
        ' style="margin: 8px 0 24px;"><tr>'
        f'<td align="center" bgcolor="{BUTTON_COLOUR}" style="border-radius: 6px;">'
        f'<a href="{escape(url)}" target="_blank" style="display: inline-block; padding: 14px 28px;'
        f" {FONT} font-size: 17px; font-weight: bold; color: #ffffff; text-decoration: none;"
        f' border-radius: 6px;">{label}</a></td></tr></table>'
    )
    return markup, f"{value['label']}: {url}"


def render_blocks(body):
    """(html, text) of a message's blocks, with markers where per-donor values go."""
    html_parts, text_parts = [], []
    for block in body:
        kind, value = block.block_type, block.value
        if kind == "paragraph":
            markup = email_rich_text(value.source)
            markup_text = rich_text_to_text(markup)
        elif kind == "image":
            markup, markup_text = _image(value)
        elif kind == "key_figures":
            markup, markup_text = _key_figures(value)
        elif kind == "button":
            markup, markup_text = _button(value)
        else:
            continue
        html_parts.append(markup)
        if markup_text:
            text_parts.append(markup_text)
    return "".join(html_parts), "\n\n".join(text_parts)
