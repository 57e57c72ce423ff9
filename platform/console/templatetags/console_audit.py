"""Audit entries in words on the console's pages: the action, the record's kind and the
before/after details, never a dotted action, a model label or a Python dict."""

from django import template

from booking.audit_trail import entry_in_words

register = template.Library()


@register.filter
def in_words(entry):
    return entry_in_words(entry)
