"""Reading PDFs back as people would: the text poppler's `pdftotext` finds in them."""

import subprocess


def pdf_text(data):
    """The text of PDF `data` (bytes), laid out as on the page."""
    return subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout.decode()
