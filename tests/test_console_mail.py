"""The development console shows an email as a reader sees it: headers, text, attachment
names and sizes; never base64 nor the HTML part."""

import io
import re

from django.core.mail import EmailMultiAlternatives

from config.console_mail import EmailBackend

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def test_a_receipt_email_prints_headers_text_and_attachment_names():
    # given a receipt email with a text part, an HTML part and a PDF
    message = EmailMultiAlternatives(
        subject="Grazie per il tuo dono · ricevuta 2026/0001",
        body="Cara Anna,\ngrazie per il tuo dono di € 25,00.\n",
        from_email="Trama <noreply@trama.local>",
        to=["anna@example.org"],
        reply_to=["rete@example.org"],
    )
    html = "<p>Cara Anna, <strong>grazie</strong></p>"
    message.attach_alternative(html, "text/html")
    message.attach("2026-0001.pdf", PDF, "application/pdf")
    stream = io.StringIO()
    # when the console backend sends it
    assert EmailBackend(stream=stream).send_messages([message]) == 1
    out = stream.getvalue()
    # then a separator line names it, the headers and the text are readable
    lines = out.splitlines()
    assert lines[1].startswith("==== Email: Grazie per il tuo dono · ricevuta 2026/0001 ====")
    assert "From: Trama <noreply@trama.local>" in lines
    assert "To: anna@example.org" in lines
    assert "Reply-To: rete@example.org" in lines
    assert "Subject: Grazie per il tuo dono · ricevuta 2026/0001" in lines
    assert any(line.startswith("Date: ") for line in lines)
    assert "Cara Anna,\ngrazie per il tuo dono di € 25,00." in out
    # and the PDF is one line with its name and size; no base64, no HTML
    assert f"attachment: 2026-0001.pdf ({len(PDF)} bytes)" in lines
    assert any(re.fullmatch(r"text/html part: \d+ bytes, not shown", line) for line in lines)
    assert "<strong>" not in out
    assert "JVBERi" not in out  # base64 of "%PDF"
    assert "Content-Transfer-Encoding" not in out


def test_a_plain_text_email_prints_its_text_once():
    message = EmailMultiAlternatives("Prova", "Solo testo.", "a@example.org", ["b@example.org"])
    stream = io.StringIO()
    EmailBackend(stream=stream).send_messages([message])
    assert stream.getvalue().count("Solo testo.") == 1
    assert "part:" not in stream.getvalue()
