"""What we tell a person whose card was declined, in their language, from Stripe's decline code.

Stripe's own message is English and sometimes repeats ours ("Your card was declined: Your card
was declined"), so it is never shown: each code we know gets a whole sentence of our own, and
every other code the general one. Reasons that would help a thief (lost, stolen, fraudulent)
get the general sentence too, as Stripe advises."""

from django.utils.translation import gettext as _

# Stripe's codes (error `code`, or the issuer's `decline_code` for a card_declined), grouped by
# what the person can do about them.
_NOT_ENOUGH_MONEY = {"insufficient_funds", "withdrawal_count_limit_exceeded",
                     "card_velocity_exceeded"}
_EXPIRED = {"expired_card"}
_SECURITY_CODE = {"incorrect_cvc", "invalid_cvc"}
_CARD_NUMBER = {"incorrect_number", "invalid_number"}
_EXPIRY_DATE = {"invalid_expiry_month", "invalid_expiry_year", "invalid_expiry_date"}
_TRY_LATER = {"processing_error", "issuer_not_available", "try_again_later",
              "reenter_transaction"}
_NOT_SUPPORTED = {"card_not_supported", "currency_not_supported", "transaction_not_allowed"}


def decline_message(code: str) -> str:
    """The sentence for Stripe's decline or error code, in the active language."""
    code = (code or "").strip().lower()
    if code in _NOT_ENOUGH_MONEY:
        return _("Your card was declined because there is not enough money available. "
                 "Nothing has been taken: use a different card.")
    if code in _EXPIRED:
        return _("Your card has expired. Nothing has been taken: use a different card.")
    if code in _SECURITY_CODE:
        return _("The security code is not correct. Nothing has been taken: check the 3 or 4 "
                 "digits on your card and try again.")
    if code in _CARD_NUMBER:
        return _("The card number is not correct. Nothing has been taken: check it and try "
                 "again.")
    if code in _EXPIRY_DATE:
        return _("The expiry date is not correct. Nothing has been taken: check it and try "
                 "again.")
    if code in _TRY_LATER:
        return _("Your card company could not take the payment just now. Nothing has been "
                 "taken: try again in a few minutes.")
    if code in _NOT_SUPPORTED:
        return _("Your card cannot be used for this payment. Nothing has been taken: use a "
                 "different card.")
    return _("Your card was declined. Nothing has been taken: try again or use a different "
             "card.")
