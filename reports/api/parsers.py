"""The API's JSON parser: what it hands on is text every later step can store and read.

DRF's own parser lets through what PostgreSQL or Python then refuse with a server error:
lone surrogates ("\\ud800", which UTF-8 cannot encode), NUL characters (which PostgreSQL's
text and jsonb cannot hold) and nesting deep enough to exhaust Python's recursion.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request of this API nests deeper than three levels; this leaves room.
MAX_DEPTH = 32


class TextJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None
        json_check(data)
        return data


def json_check(data) -> None:
    """Raise ParseError for nesting deeper than MAX_DEPTH or text that is not storable."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(_("The JSON is nested too deeply."))
        if isinstance(value, dict):
            stack.extend((key, depth + 1) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            text_check(value)


def text_check(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(_("The text is not valid Unicode (a lone surrogate).")) from None
    if "\x00" in text:
        raise ParseError(_("The text contains a NUL character, which cannot be stored."))
