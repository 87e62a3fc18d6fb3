"""What of a page belongs to its reader, so the rest may be kept for every reader like them.

A page kept for a *kind* of reader (``@cached_page(shared=True)``: the same role, clusters and
privacy decision, see :func:`viewer_profile`) may show nothing that depends on who exactly
reads it. Two tools keep it so:

- **Parts.** ``personal_part(template, **context)`` (a template global) renders a small
  template for the reader: the header's name and unread count, a follow button. While a
  shared page renders, it leaves a placeholder instead; every answer, fresh or kept, fills the
  placeholders for its own reader. The context must be plain values (kept as JSON).
- **Marks.** Whatever compares the reader with a person (``same_person``: the owner of an
  action, the author of a comment, the lead of a joint action) or otherwise reads who they are
  (``depends_on_viewer``) marks the page being rendered: it is then kept per reader. The
  permission rules and the toolkit use these, so a plugin's rule marks pages as the core's do.

A page whose render asked nothing of the reader beyond their kind renders alike for every
reader of that kind with the same data: its code takes the same branches. The test
``tests/test_shared_pages.py`` renders every shared page for readers of the same and of
different kinds after writes and compares each kept answer with an uncached render.
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, has_request_context, render_template
from markupsafe import Markup

from portal.keeps import Keep

PART_MARK = "\x00portal-part:{}\x00"
PARTS = Keep("portal_reader_parts", at_most=10_000)  # see _part
PROFILES = Keep("portal_viewer_profiles", at_most=10_000)  # (tenant, region, user) -> kind


def depends_on_viewer() -> None:
    """The page being rendered shows something of its reader beyond their kind."""
    if has_request_context():
        g.page_depends_on_viewer = True


def same_person(user: Any, user_id: int | None) -> bool:
    """Whether ``user`` is the person ``user_id`` (an owner, an author, a lead); the page
    being rendered then depends on its reader, whatever the answer."""
    depends_on_viewer()
    return user is not None and user_id is not None and getattr(user, "id", None) == user_id


def personal_part(template: str, **context: Any) -> Markup:
    """``template`` rendered for the reader; a placeholder while a shared page renders."""
    parts = g.get("page_parts") if has_request_context() else None
    if parts is None:
        return Markup(render_template(template, **context))  # noqa: S704 - autoescaped
    parts.append((template, json.loads(json.dumps(context))))
    return Markup(PART_MARK.format(len(parts) - 1))  # noqa: S704 - our own marker


def fill_parts(body: bytes, parts: tuple | list) -> bytes:
    """The page with each placeholder replaced by its part rendered for this reader."""
    for number, (template, context) in enumerate(parts):
        html = _part(template, context)
        body = body.replace(PART_MARK.format(number).encode(), html.encode())
    return body


def _part(template: str, context: dict) -> str:
    """A part rendered for this reader, kept across their answers while what a part reads
    stays: the reader (their name and rights move the region's version), their inbox's and
    the region's versions (the unread count, what they follow: read with the page's own),
    the language, the address (a form's way back, the current page's link) and the renderer.
    The session's CSRF token is a placeholder in the kept HTML."""
    from flask import current_app, request
    from flask_babel import get_locale
    from flask_login import current_user

    from portal.keeps import reading_request
    from portal.tenancy import cache_scopes
    from portal.tenancy.versioning import scope_versions
    from portal.web.session_tokens import with_session_token, without_session_token

    tenant = g.get("tenant")
    if tenant is None or not reading_request() or not current_user.is_authenticated:
        return render_template(template, **context)
    key = (
        template,
        json.dumps(context, sort_keys=True),
        tenant.id,
        current_user.id,
        scope_versions(tenant.id, (cache_scopes.REGION, cache_scopes.inbox(current_user.id))),
        str(get_locale() or ""),
        request.full_path,
        request.endpoint,
        current_app.config.get("PAGE_RENDERER_VERSION", ""),
    )
    kept = PARTS.get(key)
    if kept is None:
        kept = PARTS.put(key, without_session_token(render_template(template, **context)))
    return with_session_token(kept)


def viewer_profile(user: Any, tenant: Any) -> tuple:
    """The reader's kind: what every decision on a shared page may depend on. Their role,
    whether they administer the platform, their clusters (for the roles whose rules read
    them) and the privacy policy's decision. Kept across requests by the region's version
    (``region_mark``), which every change of a membership, a user, a sharing choice or a
    setting renews, and an action's write keeps."""
    from portal.tenancy.versioning import region_mark

    key = (tenant.id, region_mark(tenant), user.id, user.is_platform_admin)
    return PROFILES.get_or_make(key, lambda: _profile(user, tenant))


def _profile(user: Any, tenant: Any) -> tuple:
    from portal.accounts.models import Role
    from portal.permissions import membership_for
    from portal.privacy.policy import values_view

    membership = membership_for(user, tenant)
    role = membership.role if membership is not None else None
    clusters: tuple[int, ...] = ()
    if role in (Role.CLUSTER_MANAGER, Role.MEMBER):
        clusters = tuple(sorted(membership.cluster_ids))
    return (
        str(role) if role else "",
        bool(user.is_platform_admin),
        clusters,
        values_view(user, tenant).key,
    )
