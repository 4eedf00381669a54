"""The site's stylesheet, written into every page's <head> instead of linked.

On a phone every request waits a round trip (562 ms on Lighthouse's slow 4G): a linked
stylesheet blocks the first paint until it arrives, so a page paints one round trip after a
bare page. Inline, the page paints from its HTML alone (issue 21: home page LCP <= 1.6x a bare
page). The stylesheet is small (about 9 KB, 2-3 KB compressed).

The Content Security Policy still allows no inline style in general ('unsafe-inline' never):
public pages' `style-src` carries the SHA-256 hash of exactly this text (config/csp.py), so
the browser applies this one <style> element and no other (CSP level 2, hash sources:
https://www.w3.org/TR/CSP3/#grammardef-hash-source). The text and its hash are read once and
again only when the file changes (its modification time), so the page and its policy always
agree, also for a page served whole from the page cache (the policy header is stored with it).
"""

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from django.contrib.staticfiles import finders

STYLESHEET = "css/trama.css"
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


@lru_cache(maxsize=1)
def _path():
    found = finders.find(STYLESHEET)
    if not found:
        raise FileNotFoundError(STYLESHEET)
    return Path(found)


_read: dict[Path, tuple[int, str, str]] = {}  # path -> (modification time, text, hash)


def read(path):
    """(text, hash source) of the stylesheet at `path`: comments and indentation dropped,
    read again only when the file's modification time changes."""
    mtime = path.stat().st_mtime_ns
    known = _read.get(path)
    if known is not None and known[0] == mtime:
        return known[1], known[2]
    raw = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    text = "\n".join(line.strip() for line in raw.splitlines() if line.strip())
    if "</" in text:  # it would end the <style> element early
        raise ValueError(f"{path}: '</' cannot be written inside <style>")
    _read[path] = (mtime, text, hash_source(text))
    return text, _read[path][2]


def hash_source(text):
    """The CSP hash source allowing an inline element whose content is exactly `text`."""
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def inline():
    """The site stylesheet's (text, hash source)."""
    return read(_path())
