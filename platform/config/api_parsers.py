"""The APIs' one body parser: JSON, and nothing that can make it fail with a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # DRF catches ValueError only; nesting deeper than Python's recursion limit is not a
            # document any endpoint takes.
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
