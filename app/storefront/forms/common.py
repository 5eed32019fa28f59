"""What every form shares: the base class with the input boundary's text rule, filters, and
a way to show a domain error on its fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField

from app.errors import DomainError
from app.inputs import PlainText


class ShopForm(FlaskForm):
    """Every page form: each text field (StringField and its kinds: e-mail, password,
    hidden, search...) refuses NUL characters and unpaired surrogates as a field error,
    checked before the field's own validators."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            # WTForms builds the form's Meta from this class and its bases' Meta at run time,
            # so super() reaches DefaultMeta, which the type checker cannot see.
            field = super().bind_field(form, unbound_field, options)  # type: ignore[misc]
            if isinstance(field, StringField):
                field.validators = [PlainText(), *field.validators]
            return field


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def blank_to_none(value: str | None) -> str | None:
    return value or None


def form_status(form: FlaskForm) -> int:
    """A refused form answers 422, so scripts and tests can tell it from a fresh one."""
    return 422 if form.is_submitted() and form.errors else 200


def show_field_errors(form: FlaskForm, error: DomainError, aliases: dict | None = None) -> bool:
    """Put the domain's ``details.fields`` messages on the form's fields; True when at
    least one landed. Nested groups (``shipping_address: {city: [...]}``) are flattened;
    ``aliases`` maps a domain field name to the form's."""
    fields = error.details.get("fields") or {}
    placed = False
    for name, messages in _flatten(fields):
        field = getattr(form, (aliases or {}).get(name, name), None)
        if field is None:
            continue
        field.errors = [*field.errors, *messages]
        placed = True
    return placed


def _flatten(fields: dict) -> list[tuple[str, list[str]]]:
    flat = []
    for name, value in fields.items():
        if isinstance(value, dict):
            flat.extend(_flatten(value))
        else:
            flat.append((name, list(value)))
    return flat


def error_text(error: DomainError) -> str:
    """A domain error as one sentence for a flash message."""
    flat = _flatten(error.details.get("fields") or {})
    text = flat[0][1][0] if flat and flat[0][1] else error.message
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."
