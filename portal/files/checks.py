"""What an upload really is: each allowed kind is parsed, not judged by its first bytes.

- PNG and JPEG must decode with Pillow, within a pixel limit (``FILE_MAX_PIXELS``); Pillow's
  decompression-bomb warning counts as a refusal too. A PNG must end with its IEND chunk.
  A JPEG may carry data after its end (phones append further pictures there), never HTML.
- A PDF must parse with pypdf: a header at the very start, ``%%EOF`` at the end (else it was cut
  short), a readable cross-reference table and at least one page. Encrypted PDFs are refused,
  also those that open without a password: the portal cannot check what they hold, and members
  may not be able to open them.
- An Office file (docx, xlsx, pptx) must be a sane zip: nothing before or after the archive, no
  encrypted or oddly named members, a bounded number of members, at most ten times the file limit
  unpacked and no member packed more tightly than ``MAX_RATIO`` to one (zip bombs); its
  ``[Content_Types].xml`` must name the main part of the format, that part and ``_rels/.rels``
  must be there, and every member must unpack to its recorded size and checksum. Files with macros
  (docm, xlsm, pptm) are refused. ODF and text formats are not accepted (they never were).
- Any file whose bytes carry HTML markup (a page hidden after a valid header, or before it) is
  refused whatever its kind.

:func:`inspect` returns (content type, extension) or raises a translated ``ServiceError``.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zipfile
import zlib

from defusedxml import ElementTree
from flask import current_app, has_app_context
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PyPdfError

from portal.errors import ServiceError

DEFAULT_MAX_PIXELS = 50_000_000
MAX_RATIO = 100  # unpacked : packed, for members of more than RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
MAX_MEMBERS = 10_000
TYPES_PART_LIMIT = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Tags a browser would act on, followed by what may follow a tag name: rare enough in compressed
# or binary data that a real image, PDF or Office file does not hold them by chance.
HTML = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|frameset|svg|object|embed|meta|img)"
    rb"[\s/>]",
    re.IGNORECASE,
)
OFFICE = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsx",
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pptx",
    ),
}
MACRO_TYPES = (
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
)
TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def _refuse(message: str):
    raise ServiceError(message, {"file": [message]})


def _config(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


def _not_allowed():
    _refuse(_("Only PDF, Word, Excel, PowerPoint, PNG and JPEG files can be uploaded."))


def _extra_data():
    _refuse(_("The file has extra data after its end; it is refused as a possible disguise."))


def inspect(data: bytes) -> tuple[str, str]:
    """(content type, extension) of an allowed, well-formed file; else a ServiceError."""
    if HTML.search(data):
        _refuse(_("The file contains HTML (web page code) and cannot be uploaded."))
    if data.startswith(PNG_SIGNATURE):
        _image(data, "PNG")
        _png_ends(data)
        return "image/png", ".png"
    if data.startswith(b"\xff\xd8\xff"):
        _image(data, "JPEG")
        return "image/jpeg", ".jpg"
    if data.startswith(b"%PDF-"):
        _pdf(data)
        return "application/pdf", ".pdf"
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    _not_allowed()


# --- images --------------------------------------------------------------------------------


def _image(data: bytes, fmt: str) -> None:
    limit = _config("FILE_MAX_PIXELS", DEFAULT_MAX_PIXELS)
    damaged = _("The image is damaged or incomplete and cannot be read.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                width, height = image.size
                if width * height > limit:
                    raise Image.DecompressionBombError
                image.verify()  # PNG: every chunk's checksum
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                if fmt == "JPEG":  # decode every scan, at an eighth of the size
                    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(
            _(
                "The image has too many pixels: at most %(limit)d million are accepted. "
                "It may be a decompression bomb.",
                limit=limit // 1_000_000,
            )
        )
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError):
        _refuse(damaged)


def _png_ends(data: bytes) -> None:
    """The chunks run to IEND and the file ends there."""
    position = len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        position += 12 + length
        if kind == b"IEND":
            if position != len(data):
                _extra_data()
            return
    _refuse(_("The image is damaged or incomplete and cannot be read."))


# --- PDF -----------------------------------------------------------------------------------


def _pdf(data: bytes) -> None:
    damaged = _("The PDF is damaged or incomplete and cannot be read.")
    if b"%%EOF" not in data[-1024:] or b"startxref" not in data[-1024:]:
        _refuse(damaged)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if not encrypted:
            pages = reader.pages
            if len(pages) < 1:
                _refuse(damaged)
            for page in pages:
                page.mediabox  # noqa: B018 - reads each page's dictionary
    except LimitReachedError:
        _refuse(_("The PDF unpacks to too much data; it may be a decompression bomb."))
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, RecursionError, OSError):
        _refuse(damaged)
    if encrypted:
        _refuse(_("The PDF is encrypted or protected by a password; upload an unprotected copy."))


# --- Office packages ------------------------------------------------------------------------


def _office(data: bytes) -> tuple[str, str]:
    damaged = _("The Office file is damaged or incomplete and cannot be read.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        _refuse(damaged)
    with archive:
        members = archive.infolist()
        if not members or len(members) > MAX_MEMBERS:
            _refuse(damaged)
        if min(m.header_offset for m in members) != 0:
            _refuse(damaged)
        if not _zip_ends(data):
            _extra_data()
        names = [m.filename for m in members]
        if len(set(names)) != len(names) or any(_bad_name(name) for name in names):
            _refuse(damaged)
        if any(m.flag_bits & 1 for m in members):  # encrypted member
            _refuse(damaged)
        unpacked_limit = 10 * _config("FILE_MAX_BYTES", 20 * 1024 * 1024)
        if sum(m.file_size for m in members) > unpacked_limit or any(
            m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1)
            for m in members
        ):
            _refuse(
                _(
                    "The Office file unpacks to far more than its size (more than %(mb)d MB, "
                    "or packed over %(ratio)d times); it may be a zip bomb.",
                    mb=unpacked_limit // (1024 * 1024),
                    ratio=MAX_RATIO,
                )
            )
        kind = _package_kind(archive, set(names), damaged)
        try:
            for member in members:  # every member unpacks to its recorded size and checksum
                with archive.open(member) as stream:
                    while stream.read(1024 * 1024):
                        pass
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, zlib.error):
            _refuse(damaged)
    return kind


def _zip_ends(data: bytes) -> bool:
    """The end-of-directory record and its comment close the file."""
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(data):
        return False
    (comment,) = struct.unpack("<H", data[end + 20 : end + 22])
    return end + 22 + comment == len(data)


def _bad_name(name: str) -> bool:
    parts = name.split("/")
    return name.startswith("/") or "\\" in name or ".." in parts or "\x00" in name


def _package_kind(archive: zipfile.ZipFile, names: set[str], damaged: str) -> tuple[str, str]:
    if "[Content_Types].xml" not in names:
        _not_allowed()
    info = archive.getinfo("[Content_Types].xml")
    if info.file_size > TYPES_PART_LIMIT:
        _refuse(damaged)
    try:
        root = ElementTree.fromstring(archive.read(info), forbid_dtd=True)
    except Exception:  # a damaged member, malformed XML, a DTD  # noqa: BLE001
        _refuse(damaged)
    overrides = {
        element.get("ContentType", ""): element.get("PartName", "")
        for element in root.iter(TYPES_NS + "Override")
    }
    if any(macro in overrides for macro in MACRO_TYPES) or any(
        name.lower().endswith("vbaproject.bin") for name in names
    ):
        _refuse(
            _(
                "Office files with macros cannot be uploaded; save a copy without macros "
                "(docx, xlsx or pptx)."
            )
        )
    for content_type, kind in OFFICE.items():
        part = overrides.get(content_type)
        if part is not None:
            if part.lstrip("/") not in names or "_rels/.rels" not in names:
                _refuse(damaged)
            return kind
    _not_allowed()
