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
