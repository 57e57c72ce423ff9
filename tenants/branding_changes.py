"""Changes to a client's branding by its administrators: the names, brand colour, contact
details and phone-line hours shown on its site, and its logo. Each is one durable transaction
with its audit row; problems are a ValidationError keyed by the form field."""

import logging
import re
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit.services import record
from integrations.object_storage import STORAGE_ERRORS

from .models import ClientOrganisation
from .opening_hours import DAYS

BRANDING_FIELDS = ("display_name_en", "display_name_cy", "primary_colour", "contact_phone",
                   "contact_email", "opening_hours")
_HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
logger = logging.getLogger(__name__)


def _errors(**fields) -> ValidationError:
    return ValidationError({name: [message] for name, message in fields.items()})


def _branding_of(organisation) -> dict:
    return {name: getattr(organisation, name) for name in BRANDING_FIELDS}


def clean_opening_hours(hours: dict) -> dict:
    """{"mon": ["08:00", "17:00"], …}; a day left out is closed."""
    cleaned = {}
    for day, pair in (hours or {}).items():
        if day not in DAYS:
            raise _errors(**{f"{DAYS[0]}_opens": _("Unknown day %(day)s.") % {"day": day}})
        if not pair:
            continue
        opens, closes = pair
        if not (_HH_MM.match(opens or "") and _HH_MM.match(closes or "")):
            raise _errors(**{f"{day}_opens": _("Enter opening and closing times like 08:00 "
                                               "and 17:00.")})
        if opens >= closes:
            raise _errors(**{f"{day}_closes": _("The closing time must be after the opening "
                                                "time.")})
        cleaned[day] = [opens, closes]
    return cleaned


LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 2000


def set_logo(organisation_id, upload, *, actor, ip_address=None):
    """Replace the client's header logo with `upload` (a file), or remove it with None. The file
    must really be a PNG, JPEG, GIF or WebP image (SVG is refused: it can carry script)."""
    name = None
    if upload is not None:
        name = f"logo-{secrets.token_hex(6)}.{LOGO_FORMATS[_checked_logo(upload)]}"
    stored = None
    try:
        with transaction.atomic(durable=True):
            organisation = ClientOrganisation.objects.select_for_update().get(pk=organisation_id)
            old = organisation.logo.name or None
            if name is None:
                organisation.logo = ""
            else:
                upload.seek(0)
                try:
                    organisation.logo.save(name, upload, save=False)
                except STORAGE_ERRORS as error:  # object storage away: say so, change nothing
                    logger.warning("logo not stored for %s: %r", organisation.schema_name, error)
                    raise _errors(logo=_("The logo could not be saved. Try again later.")
                                  ) from error
                stored = organisation.logo.name
            organisation.save(update_fields=["logo"])
            record(actor=actor, action="organisation.logo_changed", obj=organisation,
                   organisation=organisation, before={"logo": old},
                   after={"logo": organisation.logo.name or None}, ip_address=ip_address)
    except Exception:
        if stored:  # nothing half-written: a change that did not commit leaves no file
            _delete_file(stored)
        raise
    if old:
        _delete_file(old)
    return organisation


def _delete_file(name: str) -> None:
    """Delete a logo file no row names any more. If the store is away the file stays behind,
    unreferenced and unserved (the row is what counts); that is no reason to fail a change
    that has already been made."""
    try:
        ClientOrganisation.logo.field.storage.delete(name)
    except STORAGE_ERRORS as error:
        logger.warning("logo file %s left in storage: %r", name, error)


def _checked_logo(upload) -> str:
    """The image's format, or a ValidationError on `logo` saying what is wrong with the file."""
    from PIL import Image, UnidentifiedImageError

    if upload.size > LOGO_MAX_BYTES:
        raise _errors(logo=_("The logo must be smaller than 512 KB."))
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _errors(logo=_("The logo must be a PNG, JPEG, GIF or WebP image.")) from None
    if image_format not in LOGO_FORMATS:
        raise _errors(logo=_("The logo must be a PNG, JPEG, GIF or WebP image."))
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        raise _errors(logo=_("The logo must be at most 2000 pixels wide and high."))
    return image_format


def update_branding(organisation_id, data: dict, *, actor, ip_address=None):
    """The client's names, brand colour (checked for contrast with white text), contact
    details and phone-line opening hours."""
    unknown = set(data) - set(BRANDING_FIELDS)
    if unknown:
        raise ValueError(f"not branding fields: {sorted(unknown)}")
    data = dict(data)
    if "opening_hours" in data:
        data["opening_hours"] = clean_opening_hours(data["opening_hours"])
    if "primary_colour" in data:
        data["primary_colour"] = (data["primary_colour"] or "").strip().lower()
    with transaction.atomic(durable=True):
        organisation = ClientOrganisation.objects.select_for_update().get(pk=organisation_id)
        before = _branding_of(organisation)
        errors = {}
        for name, value in data.items():
            field = organisation._meta.get_field(name)
            try:
                setattr(organisation, name, field.clean(value, organisation))
            except ValidationError as error:
                errors[name] = error.messages
        if errors:
            raise ValidationError(errors)
        organisation.save(update_fields=list(data))
        record(actor=actor, action="organisation.branding_changed", obj=organisation,
               organisation=organisation, before=before,
               after=_branding_of(organisation), ip_address=ip_address)
        return organisation
