"""Screenshots on a change request: up to three PNG, JPEG or WebP images, each checked by what
it is (Pillow decodes it), never by its name or the type the browser claims, and re-encoded from
its pixels, so what is stored and served is an image we wrote ourselves: no metadata, no
trailing bytes, nothing a browser could run."""

import io

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from audit.services import record

from . import access
from .models import ChangeRequest, Screenshot

MAX_BYTES = 5 * 1024 * 1024
# Larger images are refused before they are decoded (a small file can hold a huge image).
MAX_PIXELS = 40_000_000
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def _refuse(message):
    raise ValidationError({"image": message})


def reencode(data: bytes) -> tuple[bytes, str, int, int]:
    """(new bytes, content type, width, height) of an accepted image, else ValidationError."""
    if len(data) > MAX_BYTES:
        _refuse(_("The image must be 5 MB or smaller"))
    if not data:
        _refuse(_("The selected file is empty"))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()  # structure and checksums, without decoding every pixel
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        _refuse(_("The selected file is not a PNG, JPEG or WebP image"))
    if kind not in FORMATS:
        _refuse(_("The selected file is not a PNG, JPEG or WebP image"))
    if width * height > MAX_PIXELS:
        _refuse(_("The image is too large: it must be 40 million pixels or fewer"))
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            out = io.BytesIO()
            if kind == "JPEG":
                image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
            elif kind == "PNG":
                mode = image.mode if image.mode in ("RGB", "RGBA", "L", "LA", "P") else "RGBA"
                image.convert(mode).save(out, "PNG", optimize=True)
            else:
                image.convert("RGBA" if "A" in image.getbands() else "RGB").save(
                    out, "WEBP", quality=88)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        _refuse(_("The selected file is not a PNG, JPEG or WebP image"))
    return out.getvalue(), FORMATS[kind], width, height


def _may_add(change_request, user) -> bool:
    return access.is_moderator(user) or (
        change_request.raised_by_id == user.pk and access.is_member(user))


@transaction.atomic(durable=True)
def add_screenshot(change_request: ChangeRequest, *, data: bytes, description: str = "",
                   acting_user) -> Screenshot:
    """Add an image to the request (its raiser or provider staff), at most three a request."""
    if not _may_add(change_request, acting_user):
        raise PermissionDenied(_("Only the person who raised the request can add screenshots."))
    locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if locked.screenshots.count() >= Screenshot.MAX_PER_REQUEST:
        _refuse(_("A request can have up to 3 screenshots: remove one first"))
    return attach(locked, reencode(data), description=description, acting_user=acting_user)


def attach(locked: ChangeRequest, encoded, *, description: str = "", acting_user) -> Screenshot:
    """Store an image `reencode` accepted on a request the caller has locked, inside the
    caller's transaction (add_screenshot, and raising a request with its screenshots)."""
    content, content_type, width, height = encoded
    screenshot = Screenshot(request=locked, content_type=content_type, width=width,
                            height=height, size=len(content),
                            description=" ".join((description or "").split())[:200],
                            uploaded_by=acting_user)
    screenshot.image.save(f"screenshot.{screenshot.extension}", ContentFile(content), save=False)
    # Were the transaction to roll back, the file would be left unreferenced and never served.
    screenshot.save()
    record(actor=acting_user, action="usergroup.screenshot_added", obj=locked,
           organisation=locked.organisation, after={"screenshot": screenshot.pk,
                                                    "type": content_type})
    return screenshot


@transaction.atomic(durable=True)
def remove_screenshot(screenshot: Screenshot, *, acting_user) -> None:
    if not _may_add(screenshot.request, acting_user):
        raise PermissionDenied(_("Only the person who raised the request can remove "
                                 "screenshots."))
    name = screenshot.image.name
    storage = screenshot.image.storage
    record(actor=acting_user, action="usergroup.screenshot_removed", obj=screenshot.request,
           organisation=screenshot.request.organisation, after={"screenshot": screenshot.pk})
    screenshot.delete()
    transaction.on_commit(lambda: storage.delete(name))
