"""The input boundary: text no column or driver can take is refused before any work.

PostgreSQL cannot store a NUL character (psycopg2 refuses the literal, a ``json`` column
keeps ``\\u0000`` and a later ``::jsonb`` cast fails), and a lone UTF-16 surrogate (JSON's
``"\\ud800"``) cannot even be encoded to send. Both arrive through ordinary channels - a
JSON string, ``%00`` in a query or a path - so one ``before_request`` hook looks at every
string a request carries into the app (JSON body keys and values, query arguments, path
arguments and the headers the app keeps) and answers 400 naming the field, before any
database work. The pages' forms get the same rule as a WTForms validator (``PlainText``,
attached to every text field by ``app.storefront.forms.common.ShopForm``), so a shopper
sees it on the field.

JSON nesting is bounded too: Python's parser recurses, so 5,000 nested arrays would raise
``RecursionError``. The app's JSON provider refuses more than ``MAX_JSON_DEPTH`` levels
with a ``ValueError``, which every caller of ``request.get_json`` already handles.

Numbers: every route's ``int`` path argument stops at ``MAX_ID``, as the schemas' id fields
do (``validate.Range``), so a huge id is a 404 or a 422, never an out-of-range error.

Lengths are the schemas' business (``validate.Length`` on every text field, WTForms'
``Length`` on the pages), enforced before the services run and named in the 422.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError as FormValidationError

from app.errors import error_response

MAX_JSON_DEPTH = 32
# The largest id an INTEGER column holds: a larger one is "integer out of range" in
# PostgreSQL, a 500 where the answer is "no such thing".
MAX_ID = 2**31 - 1
NUL_MESSAGE = "must not contain NUL characters"
SURROGATE_MESSAGE = "must be valid Unicode text (it has an unpaired surrogate)"
# Headers whose values the app stores or looks up; the rest never reach a database.
CHECKED_HEADERS = ("Idempotency-Key", "X-Cart-Token")

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored, or None when it can."""
    found = _UNSAFE.search(value)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


class PlainText:
    """WTForms: the boundary's rule on a page form's field, shown next to it."""

    field_flags: dict = {}

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and (problem := text_problem(field.data)):
            raise FormValidationError(problem[:1].upper() + problem[1:] + ".")


# --- JSON ------------------------------------------------------------------------------

class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than MAX_JSON_DEPTH (as ValueError,
    which Flask's ``get_json`` turns into a 400 and ``silent=True`` into None)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s, **kwargs)


class JSONTooDeep(ValueError):
    pass


def load_json(s: str | bytes, **kwargs: Any) -> Any:
    try:
        data = json.loads(s, **kwargs)
    except RecursionError:
        raise JSONTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise JSONTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return data


def json_depth(data: Any) -> int:
    """Levels of arrays and objects (a scalar is 0), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value \
            if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return deepest


# --- the boundary ----------------------------------------------------------------------

def unsafe_fields(data: Any) -> dict[str, list[str]]:
    """``{field: [message]}`` for every string in ``data`` (keys too) that cannot be
    stored. A nested field is named by its dotted path (``shipping_address.city``, a list
    item by its index: ``items.1``), so the answer stays flat however deep the input."""
    return {".".join(str(part) for part in path) or "body": [problem]
            for path, problem in sorted(_walk(data, ()), key=lambda found: str(found[0]))}


def _walk(data: Any, prefix: tuple) -> Iterator[tuple[tuple, str]]:
    stack = [(prefix, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if problem := text_problem(value):
                yield path, problem
        elif isinstance(value, dict):
            for key, item in value.items():
                key_text = str(key)
                if problem := text_problem(key_text):
                    yield (*path, _printable(key_text)), problem
                else:
                    stack.append(((*path, key_text), item))
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))


def _printable(name: str) -> str:
    """A refused key, named without the characters that made it unusable."""
    return _UNSAFE.sub("\ufffd", name)


def _request_fields() -> dict:
    """Every string of this request's URL and the headers the app keeps, by name. Form
    bodies are left alone: a page's form shows the error on its field (``ShopForm``), and
    the API takes JSON (multipart only for an image, whose size limit is its own)."""
    found: dict = {}
    sources = [_grouped(request.args.items(multi=True)), request.view_args or {},
               {name: request.headers[name] for name in CHECKED_HEADERS
                if name in request.headers}]
    for source in sources:
        for name, problems in unsafe_fields(source).items():
            found.setdefault(name, problems)
    return found


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    grouped: dict[str, Any] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values
            for name, values in grouped.items()}


def _refuse_unusable_input():
    refusal = _json_body_refusal() if request.is_json else None
    if refusal is None and (fields := _request_fields()):
        refusal = _refused(fields)
    return refusal


def _json_body_refusal():
    """The body is parsed here, once: ``get_json`` keeps it for the rate limits' key
    functions, the views and the arguments' parser (``app.api_routes.ParsedOnceParser``)."""
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return None  # the view answers 413, after its rate limits counted the attempt
    if not raw.strip():
        return None  # no body (a DELETE sent with a JSON Content-Type): the view decides
    try:
        body = request.get_json(cache=True)
    except BadRequest as exc:
        if _caused_by(exc, JSONTooDeep):
            return error_response(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
                                  code="json_too_deep", details={"max_depth": MAX_JSON_DEPTH})
        return error_response(400, "the request body is not valid JSON", code="invalid_json")
    fields = unsafe_fields(body)
    return _refused(fields) if fields else None


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is in the chain behind ``error`` (Flask re-raises the provider's
    ValueError as a BadRequest, from werkzeug's BadRequest, raised while handling it)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _refused(fields: dict):
    return error_response(400, "invalid input: " + _first_message(fields),
                          code="invalid_text", details={"fields": fields})


def _first_message(fields: dict[str, list[str]]) -> str:
    name, messages = next(iter(fields.items()))
    return f"{name} {messages[0]}"


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: an id beyond what the column holds matches no route
    (404) instead of reaching the database."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_inputs(app: Flask) -> None:
    """Before any blueprint registers a route: the routes' ``int`` converter is bounded."""
    app.url_map.converters["int"] = IdConverter
    app.json = BoundedJSONProvider(app)
    app.before_request(_refuse_unusable_input)
