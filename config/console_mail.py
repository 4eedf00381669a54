"""A console mail backend for development and the demo: each email as a reader sees it.

Django's console backend prints the raw MIME message: base64 PDFs and the whole HTML part bury
the one thing a developer looks for. This one prints a separator line with the subject, the
headers, the text part, and one line per attachment (its name and size).
"""

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

HEADERS = ("From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date")
WIDTH = 79


class EmailBackend(DjangoConsoleBackend):
    def write_message(self, message):
        msg = message.message()
        lines = ["", f"==== Email: {msg['Subject']} ====".ljust(WIDTH, "=")]
        # Bcc is never a header of the sent message: read it from the EmailMessage.
        headers = {name: ", ".join(message.bcc) if name == "Bcc" else msg[name] for name in HEADERS}
        lines += [f"{name}: {value}" for name, value in headers.items() if value]
        text = msg.get_body(preferencelist=("plain",))
        lines += ["", text.get_content().rstrip() if text else "(no text part)", ""]
        for part in msg.walk():
            if part.is_multipart() or part is text:
                continue
            size = len(part.get_payload(decode=True) or b"")
            if part.get_filename():
                lines.append(f"attachment: {part.get_filename()} ({size} bytes)")
            else:
                lines.append(f"{part.get_content_type()} part: {size} bytes, not shown")
        lines.append("-" * WIDTH)
        self.stream.write("\n".join(lines) + "\n")
