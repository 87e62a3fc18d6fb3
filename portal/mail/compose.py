"""Mail people read: HTML and plain text from templates, in the recipient's language, with the
region's name and colour, a link to the page, the reason they got it and a link to their mail
settings.

A mail is a pair of templates, ``mail/<name>.html`` and ``mail/<name>.txt``, extending
``mail/_layout.html`` and ``mail/_layout.txt``; the text template's ``subject`` block is the
subject. :func:`notify` writes the mail to the outbox (``portal.mail.services.send_mail``) if
the person wants mail of that kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from portal.mail.models import OutboxMessage
from portal.mail.preferences import ACCOUNT, wants
from portal.mail.services import send_mail


@dataclass
class Mail:
    subject: str
    text: str
    html: str

    def send(self, recipient: str, **outbox: Any) -> OutboxMessage:
        """Queue this mail to ``recipient``; ``outbox``: ``send_mail``'s keywords (kind, key,
        attachments, tenant_id)."""
        return send_mail(recipient, self.subject, self.text, html=self.html, **outbox)


def recipient_locale(person: Any, tenant: Any = None) -> str:
    """The language a person is written to in: theirs, else the region's, else English."""
    return person.locale or getattr(tenant, "default_locale", None) or "en"


def _block(name: str, block: str, context: dict[str, Any]) -> str:
    template = current_app.jinja_env.get_template(name)
    current_app.update_template_context(context)
    rendered = template.blocks[block](template.new_context(context))
    return "".join(rendered).strip()


def settings_url() -> str:
    from portal.accounts.services import external_url

    return external_url("auth.profile", _anchor="mail")


def compose(
    template: str,
    *,
    locale: str,
    tenant: Any = None,
    reason: str = "",
    link: str | None = None,
    link_label: str | None = None,
    **context: Any,
) -> Mail:
    """Render ``mail/<template>`` in ``locale``; ``reason`` is a lazy string or a callable
    rendered in that language (why the person got it)."""
    with force_locale(locale or "en"):
        values = {
            "tenant": tenant,
            "mail_locale": locale or "en",
            "accent": getattr(tenant, "accent_color", None) or "#0b6e4f",
            "link": link,
            "link_label": str(link_label) if link_label else None,
            "settings_url": settings_url() if reason else None,
            **context,
        }
        values["reason"] = str(reason() if callable(reason) else reason) if reason else ""
        text_name, html_name = f"mail/{template}.txt", f"mail/{template}.html"
        subject = " ".join(_block(text_name, "subject", dict(values)).split())
        text = render_template(text_name, **values)
        html = render_template(html_name, subject=subject, **values)
    return Mail(subject[:300], text.strip() + "\n", html)


def notify(
    user: Any,
    kind: str,
    template: str,
    *,
    tenant: Any = None,
    key: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    checked: bool = False,
    **context: Any,
) -> OutboxMessage | None:
    """Compose and queue a mail of ``kind`` to ``user`` in their language; None when they do
    not want this kind (``checked``: the caller's query asked already)."""
    if kind != ACCOUNT and not checked and not wants(user, kind):
        return None
    mail = compose(template, locale=recipient_locale(user, tenant), tenant=tenant, **context)
    return mail.send(
        user.email,
        attachments=attachments,
        kind=kind,
        key=key,
        tenant_id=getattr(tenant, "id", None),
    )
