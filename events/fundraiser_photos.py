"""Personal pages' photos: private files (crm.storage), never under /media/. A stranger's
upload waits there, unseen by the public, until the page is confirmed and approved; then the
page's photo view serves it while the page is public, and the moderation screen shows it to
the page's network before that. The stored name is random, its extension the image's real
format (Pillow read it), not the name or extension it was sent with."""

import uuid

from django.http import FileResponse, Http404
from PIL import Image

# The formats a photo is served as; anything else is not served (a 404, never a guess).
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}


def image_extension(file) -> str:
    """The extension of the image `file` really is: the format Pillow found (the form's
    ImageField keeps its image on the upload), else read from the file's first bytes."""
    image = getattr(file, "image", None)
    if image is None:
        try:
            file.seek(0)
            with Image.open(file) as opened:
                image_format = opened.format
        except (OSError, ValueError):
            image_format = None
        finally:
            file.seek(0)
    else:
        image_format = image.format
    return EXTENSIONS.get(image_format or "", "bin")


def photo_name(fundraiser, filename):
    """`fundraisers/<random>.<real extension>`: the name it was sent with is not kept."""
    return f"fundraisers/{uuid.uuid4().hex}.{image_extension(fundraiser.photo.file)}"


def photo_response(fundraiser, *, cache_control: str) -> FileResponse:
    """The stored photo as an image, for views that checked who may see it."""
    name = fundraiser.photo.name if fundraiser.photo else ""
    content_type = CONTENT_TYPES.get(name.rpartition(".")[2].lower())
    if content_type is None:
        raise Http404
    try:
        file = fundraiser.photo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(file, content_type=content_type)
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
