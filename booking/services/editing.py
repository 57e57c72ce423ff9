"""What every staff change to a client's set-up has in common: problems raised as a
ValidationError keyed by the form field they concern (so a form can show each beside its field),
the row locked before it is changed, and its snapshot for the audit entry."""

from datetime import date, datetime, time

from django.core.exceptions import ValidationError


def field_errors(**fields) -> ValidationError:
    return ValidationError({name: [message] for name, message in fields.items()})


def snapshot(obj, fields) -> dict:
    data = {}
    for name in fields:
        value = getattr(obj, name)
        data[name] = value.isoformat() if isinstance(value, date | datetime | time) else value
    return data


def open_for_change(model, pk, data: dict, snapshot_of):
    """(object, before): a new `model` when `pk` is None, else the row, locked so that `before`
    (its snapshot for the audit entry) is what this change replaces; `data` set and validated."""
    if pk is None:
        obj, before = model(), None
    else:
        obj = model.objects.select_for_update().get(pk=pk)
        before = snapshot_of(obj)
    for name, value in data.items():
        setattr(obj, name, value)
    obj.full_clean()
    return obj, before
