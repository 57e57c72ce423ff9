"""Who hears of a change request's news and how: subscriptions (raisers, voters and commenters
follow a request as they act), each person's delivery preference (an e-mail each time, a daily
digest, or none), the signed one-click unsubscribe link in every e-mail, and the digest itself.

Everything here runs inside the caller's transaction and leaves through the outbox, each message
with a dedupe key, so nothing goes twice."""

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from outbox.services import queue_email, queue_emails
from tenants.site_urls import site_url

from .models import DigestEntry, NotificationPreference, Subscription

Delivery = NotificationPreference.Delivery
UNSUBSCRIBE_SALT = "usergroup.unsubscribe"
URLCONF = "config.urls_platform"


def platform_url(name: str, *args) -> str:
    return site_url(None) + reverse(f"usergroup:{name}", args=args, urlconf=URLCONF)


def request_url(change_request) -> str:
    return platform_url("detail", change_request.pk)


# --- subscriptions -----------------------------------------------------------------------

def subscribe(change_request, user) -> None:
    """`user` follows the request, unless they chose to stop following it."""
    Subscription.objects.get_or_create(request=change_request, user=user)


def subscribers(change_request, *, exclude=None):
    """The active people following the request."""
    from accounts.models import User

    users = User.objects.filter(is_active=True, usergroup_subscriptions__request=change_request,
                                usergroup_subscriptions__active=True)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.order_by("pk")


def delivery_of(user) -> str:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.delivery if preference else Delivery.IMMEDIATE


def deliveries(users) -> dict:
    """{user id: delivery} for many people at once (those with no choice get immediate)."""
    ids = [user.pk for user in users]
    chosen = dict(NotificationPreference.objects.filter(user_id__in=ids)
                  .values_list("user_id", "delivery"))
    return {pk: chosen.get(pk, Delivery.IMMEDIATE) for pk in ids}


# --- the signed unsubscribe link ---------------------------------------------------------

def unsubscribe_token(user, change_request=None) -> str:
    """A link that stops `user` following one request, or every e-mail when it names none. It
    carries no expiry: an old e-mail's link must still work."""
    return signing.dumps({"u": user.pk, "r": change_request.pk if change_request else None},
                         salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, int | None]:
    """(user id, request id or None); signing.BadSignature for a tampered or made-up token."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise signing.BadSignature("not an unsubscribe token")
    return data["u"], data.get("r")


_prefixes: dict = {}


def _url_prefix(name: str) -> tuple[str, str]:
    """A route's address around its one argument, reversed once per site address (a release
    tells thousands of people, each with their own links)."""
    key = (site_url(None), name)
    if key not in _prefixes:
        _prefixes[key] = tuple(platform_url(name, "TOKEN").rsplit("TOKEN", 1))
    return _prefixes[key]


def _preferences_url() -> str:
    key = (site_url(None), "preferences")
    if key not in _prefixes:
        _prefixes[key] = platform_url("preferences")
    return _prefixes[key]


def unsubscribe_url(user, change_request=None) -> str:
    prefix, suffix = _url_prefix("unsubscribe")
    return prefix + unsubscribe_token(user, change_request) + suffix


def email_to(user, *, kind: str, subject: str, text: str, dedupe_key: str,
             change_request=None, regarding: dict | None = None) -> dict:
    """The outbox's arguments for one e-mail to `user`, with the unsubscribe links in its
    text and in the headers (RFC 8058: a mail client's own "unsubscribe" button posts to the
    link, no page needed)."""
    stop_all = unsubscribe_url(user)
    stop_this = unsubscribe_url(user, change_request) if change_request is not None else None
    lines = ["", "--"]
    if stop_this:
        lines.append(_("Stop following this request: %(url)s") % {"url": stop_this})
    lines.append(_("Stop all user group e-mails: %(url)s") % {"url": stop_all})
    lines.append(_("Choose how you hear from the user group: %(url)s")
                 % {"url": _preferences_url()})
    return {"kind": kind, "to": user.email, "subject": subject,
            "text": text + "\n".join(lines) + "\n",
            "headers": {"List-Unsubscribe": f"<{stop_this or stop_all}>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            "dedupe_key": dedupe_key,
            "regarding": regarding or ({"change_request": change_request.pk}
                                       if change_request is not None else {})}


def send_now(user, **message):
    """One e-mail to `user` through the outbox, whatever their preference; None if its
    dedupe key was queued before."""
    return queue_email(**email_to(user, **message))


def tell(users, *, kind: str, subject: str, text: str, dedupe_key: str, change_request=None,
         digest_line: str = "") -> int:
    """Tell each of `users` their way: an e-mail now, a line in tomorrow's digest, or nothing.
    `dedupe_key` is completed with the person's id. Returns how many e-mails were queued."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Tell people inside the transaction of the change they hear of")
    users = list(users)
    how = deliveries(users)
    emails, waiting = [], []
    for user in users:
        if how[user.pk] == Delivery.IMMEDIATE:
            emails.append(email_to(user, kind=kind, subject=subject, text=text,
                                   dedupe_key=f"{dedupe_key}:{user.pk}",
                                   change_request=change_request))
        elif how[user.pk] == Delivery.DIGEST:
            waiting.append(DigestEntry(user=user, request=change_request, kind=kind,
                                       summary=digest_line or subject))
    DigestEntry.objects.bulk_create(waiting)
    return len(queue_emails(emails)) if emails else 0


# --- preferences and unsubscribing -------------------------------------------------------

@transaction.atomic(durable=True)
def set_delivery(user, *, delivery: str, acting_user) -> NotificationPreference:
    if acting_user.pk != user.pk:
        raise PermissionDenied(_("You can only change your own e-mail choices."))
    if delivery not in Delivery.values:
        raise ValidationError({"delivery": _("Select how you want to hear from the user group")})
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"delivery": delivery})
    return preference


@transaction.atomic(durable=True)
def set_following(change_request, user, *, active: bool, acting_user) -> Subscription:
    if acting_user.pk != user.pk:
        raise PermissionDenied(_("You can only change what you follow yourself."))
    subscription, _created = Subscription.objects.update_or_create(
        request=change_request, user=user, defaults={"active": active})
    return subscription


@transaction.atomic(durable=True)
def unsubscribe(token: str) -> tuple:
    """Act on a signed link: stop following its request, or stop every e-mail. Returns (user,
    change request or None). The token is the proof: no sign-in is asked of a mail client."""
    from accounts.models import User

    from .models import ChangeRequest

    user_id, request_id = read_unsubscribe_token(token)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise signing.BadSignature("no such person")
    if request_id is None:
        NotificationPreference.objects.update_or_create(user=user,
                                                        defaults={"delivery": Delivery.NONE})
        return user, None
    change_request = ChangeRequest.objects.filter(pk=request_id).first()
    if change_request is None:
        raise signing.BadSignature("no such request")
    Subscription.objects.update_or_create(request=change_request, user=user,
                                          defaults={"active": False})
    return user, change_request


# --- the daily digest --------------------------------------------------------------------

def send_digests(*, now=None) -> int:
    """Send each digest subscriber one e-mail with what waited for them, at most one a day:
    the dedupe key names the person and the day, so a second run that day queues nothing (what
    arrived since waits for tomorrow's). Each person is their own transaction."""
    from accounts.models import User

    now = now or timezone.now()
    day = timezone.localdate(now)
    user_ids = list(DigestEntry.objects.filter(digested_on__isnull=True, created_at__lte=now)
                    .values_list("user_id", flat=True).distinct().order_by("user_id"))
    sent = 0
    for user in User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"):
        sent += _send_digest(user, day=day, now=now)
    return sent


@transaction.atomic(durable=True)
def _send_digest(user, *, day, now) -> int:
    entries = list(DigestEntry.objects.select_for_update(of=("self",))
                   .filter(user=user, digested_on__isnull=True, created_at__lte=now)
                   .select_related("request").order_by("created_at", "pk"))
    if not entries or delivery_of(user) != Delivery.DIGEST:
        # They changed their mind: what waited is dropped rather than sent some other way.
        DigestEntry.objects.filter(pk__in=[e.pk for e in entries]).update(digested_on=day)
        return 0
    lines = []
    for entry in entries:
        line = f"- {entry.summary}"
        if entry.request_id:
            line += f"\n  {request_url(entry.request)}"
        lines.append(line)
    count = len(entries)
    message = send_now(
        user, kind="usergroup.digest", dedupe_key=f"usergroup.digest:{user.pk}:{day.isoformat()}",
        subject=ngettext("User group: %(count)d update today", "User group: %(count)d updates today",
                         count) % {"count": count},
        text=_("What happened today on the change requests you follow:") + "\n\n"
        + "\n".join(lines) + "\n")
    if message is None:
        return 0  # today's digest went already: these wait for tomorrow's
    DigestEntry.objects.filter(pk__in=[e.pk for e in entries]).update(digested_on=day)
    return 1
