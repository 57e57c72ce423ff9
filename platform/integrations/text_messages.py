"""Text messages (SMS) to offenders: today the contact centre's pay-by-link.

The backend is chosen like Django's e-mail backends (`SMS_BACKEND`): GOV.UK Notify when
NOTIFY_API_KEY is set, the public sector's own text-message service; otherwise files under
`.data/sms/` (and the console) in development, and an in-memory outbox under pytest.
"""

import json
import logging
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import phonenumbers
import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextMessage:
    to: str  # E.164, e.g. +447700900982
    body: str


class TextMessageFailed(Exception):
    """The text-message service refused the message or could not be reached: nothing was sent."""


# UK mobiles are 07 followed by 1-5 or 7-9 (076 is pagers). Checked by range rather than by
# phonenumbers' is_valid_number, which refuses Ofcom's 07700 900xxx numbers kept for drama,
# demos and tests, and would make every example on our own pages "invalid".
UK_MOBILE = re.compile(r"^7[1-57-9]\d{8}$")


def uk_mobile(number: str) -> str:
    """The number in E.164 if it is a UK mobile; otherwise a ValidationError naming the problem.
    Landlines cannot receive texts, so they are refused here rather than lost at the provider."""
    example = {"example": "07700 900 982"}
    invalid = ValidationError(_("Enter a UK mobile number, like %(example)s") % example,
                              code="invalid")
    try:
        parsed = phonenumbers.parse((number or "").strip(), "GB")
    except phonenumbers.NumberParseException:
        raise invalid from None
    if parsed.country_code != 44:
        raise invalid
    if not UK_MOBILE.match(str(parsed.national_number)):
        if phonenumbers.is_valid_number(parsed):
            raise ValidationError(_("That is not a mobile number: texts can only go to a mobile, "
                                    "like %(example)s") % example, code="not_mobile")
        raise invalid
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def texts_available() -> bool:
    return bool(settings.SMS_BACKEND)


def send_text(to: str, body: str) -> TextMessage:
    if not texts_available():
        raise TextMessageFailed("No text-message service is configured (NOTIFY_API_KEY).")
    message = TextMessage(to=uk_mobile(to), body=body)
    import_string(settings.SMS_BACKEND)().send(message)
    return message


class NotifyBackend:
    """GOV.UK Notify: one text template whose whole content is `((body))`."""

    def send(self, message: TextMessage) -> None:
        client = NotificationsAPIClient(settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL,
                                        timeout=20)
        try:
            client.send_sms_notification(phone_number=message.to,
                                         template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
                                         personalisation={"body": message.body})
        except (APIError, requests.RequestException) as error:
            logger.warning("GOV.UK Notify refused a text message: %s", error)
            raise TextMessageFailed(str(error)) from error


class FileBackend:
    """Development: each message is printed and kept as a file, like the e-mail backend."""

    def send(self, message: TextMessage) -> None:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        (folder / f"{stamp}.json").write_text(json.dumps(message.__dict__, ensure_ascii=False))
        sys.stdout.write(f"SMS to {message.to}: {message.body}\n" + "-" * 79 + "\n")


outbox: list[TextMessage] = []


class LocmemBackend:
    """Tests: messages are kept in `integrations.text_messages.outbox`."""

    def send(self, message: TextMessage) -> None:
        outbox.append(message)
