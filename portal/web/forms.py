"""Small helpers shared by the forms."""

from __future__ import annotations


def strip(value):
    """Filter: drop the spaces people paste around e-mail addresses and names."""
    return value.strip() if isinstance(value, str) else value


def show_service_error(form, exc) -> None:
    """Put a service's refusal on the form: on its fields, else as a message. Nothing is kept."""
    from flask import flash

    from portal.extensions import db

    db.session.rollback()
    for field, messages in exc.field_errors.items():
        getattr(form, field).errors = list(getattr(form, field).errors) + messages
    if not exc.field_errors:
        flash(exc.message, "error")


class UpToThisYear:
    """A year from ``minimum`` to this year (plus ``ahead``): this year as of the check, not as
    of the day the server started (a validator's bounds are fixed when its form class is
    defined)."""

    def __init__(self, minimum: int, ahead: int = 0, message=None):
        self.minimum, self.ahead, self.message = minimum, ahead, message

    def __call__(self, form, field) -> None:
        from datetime import date

        from wtforms.validators import NumberRange

        top = date.today().year + self.ahead
        NumberRange(min=self.minimum, max=top, message=self.message)(form, field)
