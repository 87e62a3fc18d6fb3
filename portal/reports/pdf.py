"""A report's page as a PDF file (WeasyPrint): the same HTML the page shows, printed with the
page's print CSS, a stylesheet of our own (the vendored font, A4 pages, page numbers) and a
cover that is a page of its own (``templates/reports/_cover.html``).

Nothing is fetched over the network while a report renders: ``LocalFetcher`` answers the
portal's static files and the plugins' static files from disk, the region's logo and theme
from the database, ``data:`` URLs from themselves, and refuses every other address (WeasyPrint
leaves the resource out and goes on).
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join

PDF_MIME = "application/pdf"
FONT_DIR = "vendor/fonts"  # under the portal's static folder (assets/vendor.sh)
FONT_FACES = (  # (file face, CSS style, CSS weight)
    ("400-normal", "normal", 400),
    ("400-italic", "italic", 400),
    ("700-normal", "normal", 700),
)
UNICODE_RANGES = {  # as @fontsource/noto-sans declares its subsets
    "latin": "U+0000-00FF, U+0131, U+0152-0153, U+02BB-02BC, U+02C6, U+02DA, U+02DC, U+0304, "
    "U+0308, U+0329, U+2000-206F, U+20AC, U+2122, U+2191, U+2193, U+2212, U+2215, U+FEFF, U+FFFD",
    "latin-ext": "U+0100-02BA, U+02BD-02C5, U+02C7-02CC, U+02CE-02D7, U+02DD-02FF, U+0304, "
    "U+0308, U+0329, U+1D00-1DBF, U+1E00-1E9F, U+1EF2-1EFF, U+2020, U+20A0-20AB, U+20AD-20C0, "
    "U+2113, U+2C60-2C7F, U+A720-A7FF",
}
# What a PDF never shows: the site's navigation and footer, and what is for the screen only.
HIDDEN = (
    ".site-header, .site-footer, .skip-link, .flashes, .breadcrumb, .no-print, .cmp-no-print, "
    ".report-hint, .actions, form"
)

log = logging.getLogger(__name__)


class RefusedURL(ValueError):
    """An address a report may not fetch."""


def local_fetcher(host: str, fetched: list[str] | None = None):
    """A ``LocalFetcher`` for ``host`` (WeasyPrint is imported on the first report only: it
    takes half a second, which no other page should pay)."""
    return _fetcher_class()(host, fetched)


def load_weasyprint() -> None:
    """Import WeasyPrint, and undo what its import does to Pillow: it lets every image
    loader accept truncated images (``ImageFile.LOAD_TRUNCATED_IMAGES``), so the uploads'
    check would pass damaged images for the rest of the process."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False


@functools.cache
def _fetcher_class():
    load_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFetcher(URLFetcher):
        """Answers the addresses a report may use from disk or the database; refuses the rest.

        ``host`` is the portal's own host as the page's URLs name it (``request.host``): an
        address on any other host, or with any other scheme than http(s) and data, is refused
        without a connection being opened."""

        def __init__(self, host: str, fetched: list[str] | None = None):
            super().__init__(timeout=1, allowed_protocols=("http", "https", "data"))
            self.host = host
            self.fetched = fetched if fetched is not None else []  # what was answered

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)  # decoded from the address itself
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc != self.host:
                raise RefusedURL(f"a report fetches nothing from elsewhere: {url[:200]}")
            body, mimetype = self._local(unquote(parts.path))
            self.fetched.append(parts.path)
            return URLFetcherResponse(url, body, {"Content-Type": mimetype})

        def _local(self, path: str) -> tuple[bytes, str]:
            adapter = current_app.url_map.bind(self.host)
            try:
                endpoint, args = adapter.match(path, method="GET")
            except HTTPException as exc:
                raise RefusedURL(f"not a file of the portal: {path[:200]}") from exc
            if endpoint == "static":
                return _file(current_app.static_folder, args["filename"])
            if endpoint == "main.plugin_static":
                folders = current_app.extensions.get("portal_plugin_static", {})
                if args["plugin"] in folders:
                    return _file(folders[args["plugin"]], args["filename"])
            tenant = g.get("tenant")
            if tenant is not None and args.get("tenant") == tenant.slug:
                if endpoint == "main.tenant_theme":
                    from portal.tenancy.branding import theme_css

                    return theme_css(tenant.accent_color).encode(), "text/css"
                if endpoint == "main.tenant_logo":
                    from sqlalchemy import select

                    from portal.extensions import db
                    from portal.tenancy.models import Tenant

                    logo = db.session.scalar(select(Tenant.logo_png).where(Tenant.id == tenant.id))
                    if logo:
                        return logo, "image/png"
            raise RefusedURL(f"not a file a report uses: {path[:200]}")

    return LocalFetcher


MIMETYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".js": "text/javascript",
}


def _file(folder: str | None, filename: str) -> tuple[bytes, str]:
    path = safe_join(folder or "", filename) if folder else None
    if path is None or not Path(path).is_file():
        raise RefusedURL(f"no such file: {filename[:200]}")
    suffix = Path(path).suffix.lower()
    return Path(path).read_bytes(), MIMETYPES.get(suffix, "application/octet-stream")


def _css_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def print_css() -> str:
    """The PDF's own stylesheet: the vendored font, A4 pages numbered "Page 2 of 7" in the
    reader's language, the report's title in the foot, and no page number on the cover."""
    faces = []
    for subset, unicode_range in UNICODE_RANGES.items():
        for face, style, weight in FONT_FACES:
            faces.append(
                "@font-face { font-family: 'Report Sans'; "
                f"src: url('/static/{FONT_DIR}/noto-sans-{subset}-{face}.woff') format('woff'); "
                f"font-style: {style}; font-weight: {weight}; unicode-range: {unicode_range}; }}"
            )
    marker_page, marker_pages = "\x00PAGE\x00", "\x00PAGES\x00"
    words = _css_text(_("Page %(page)s of %(pages)s", page=marker_page, pages=marker_pages))
    counter = (
        words.replace(marker_page, '" counter(page) "')
        .replace(marker_pages, '" counter(pages) "')
        .replace('"" ', "")
        .replace(' ""', "")
    )
    return "\n".join(
        [
            *faces,
            "@page { size: A4; margin: 16mm 14mm 18mm;"
            f" @bottom-right {{ content: {counter}; font: 8pt 'Report Sans', sans-serif; color: #4a5560; }}"
            " @bottom-left { content: string(report-title); font: 8pt 'Report Sans', sans-serif;"
            " color: #4a5560; } }",
            "@page :first { @bottom-right { content: none; } @bottom-left { content: none; } }",
            "html, body, body * { font-family: 'Report Sans', sans-serif !important; }",
            "html { font-size: 10pt; } body { margin: 0; }",
            f"{HIDDEN} {{ display: none !important; }}",
            "main.container { max-width: none; padding: 0; margin: 0; }",
            "a { color: inherit; text-decoration: none; }",
            "ul, ul li { list-style-type: disc !important; }",  # the font has no square bullet
            ".report-cover { break-after: page; }",
            ".report-cover h1 { string-set: report-title content(); }",
            "details > summary { display: none; } details { display: block; }",
            "table { font-size: 8.5pt; } tr, li, .report-figure { break-inside: avoid; }",
            "h2, h3 { break-after: avoid; }",
        ]
    )


def render_pdf(html: str, *, fetched: list[str] | None = None) -> bytes:
    """The PDF of ``html`` (a whole page as the portal renders it), inside a request of the
    portal: its addresses are answered from disk (``LocalFetcher``). ``fetched`` collects the
    paths that were answered (for tests)."""
    load_weasyprint()
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fetcher = local_fetcher(request.host, fetched)
    base_url = request.host_url
    started = time.perf_counter()
    fonts = FontConfiguration()  # the @font-face rules load through it
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    stylesheet = CSS(string=print_css(), base_url=base_url, url_fetcher=fetcher, font_config=fonts)
    pdf = document.write_pdf(stylesheets=[stylesheet], font_config=fonts)
    log.info("report PDF of %s rendered in %.2f s", request.path, time.perf_counter() - started)
    return pdf


def pdf_response(html: str, *name: str | int) -> Response:
    """The PDF of a report's page as a download named from ``name`` (ASCII, ".pdf")."""
    from portal.plans.spreadsheets import download_name

    response = Response(render_pdf(html), mimetype=PDF_MIME)
    response.headers.set(
        "Content-Disposition", "attachment", filename=download_name(*name, extension=".pdf")
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response
