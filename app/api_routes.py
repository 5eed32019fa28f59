"""What the API's blueprints, its rate limiter and the pages share about the API: where it is
mounted, the blueprint class its blueprints are made of, and which of its views take a
file upload.

It imports nothing of ``app``, so ``app.api`` (which mounts the blueprints), the blueprints
and ``app.ratelimit`` can all import it without importing each other: the arrows run
``app.api`` -> blueprints -> ``app.ratelimit`` -> here.
"""

from __future__ import annotations

import typing

import flask
from flask import current_app, request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser, is_json_request

API_PREFIX = "/api/v1"


class ParsedOnceParser(FlaskParser):
    """webargs' parser, reading a JSON body through ``Request.get_json``'s cache: the input
    boundary (app/inputs.py) has parsed and checked the body already, so the arguments do
    not parse it a second time. A body get_json cannot read (empty, or invalid when the
    boundary did not run) goes to webargs' own reading, with its own errors."""

    def _raw_load_json(self, req: flask.Request) -> typing.Any:
        body = req.get_json(cache=True, silent=True) if is_json_request(req) else None
        return super()._raw_load_json(req) if body is None else body


class ApiBlueprint(Blueprint):
    """flask-smorest's blueprint, with the parser above."""

    ARGUMENTS_PARSER = ParsedOnceParser()


def accepts_uploads(view):
    """Mark a view that also takes multipart/form-data: a file upload."""
    view.accepts_uploads = True
    return view


def takes_this_upload() -> bool:
    """The request is a multipart upload to a view marked with ``accepts_uploads``."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.mimetype == "multipart/form-data" and getattr(view, "accepts_uploads", False)
