"""What a spreadsheet program does with a cell: text starting with = + - @ (or a tab or carriage
return) is run as a formula when a CSV or XLSX is opened, so such text is prefixed with an
apostrophe; numbers stay numbers."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value
