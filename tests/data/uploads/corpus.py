"""The upload corpus: small files of every kind the portal accepts, and the ways a file can lie.

Every file is made here (Pillow, pypdf, openpyxl, zipfile), so nothing binary is kept in the
repository. ``CASES`` maps a file name to its bytes and what the portal must answer: the content
type it is stored as, or a part of the refusal message. Write the files out to look at them:

    .venv/bin/python -m tests.data.uploads.corpus /tmp/upload-corpus
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from PIL import Image
from pypdf import PdfWriter

PNG = "image/png"
JPEG = "image/jpeg"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

NOT_ALLOWED = "Only PDF, Word, Excel, PowerPoint, PNG and JPEG files can be uploaded."
HTML = "The file contains HTML (web page code)"
EXTRA = "The file has extra data after its end"
IMAGE_DAMAGED = "The image is damaged or incomplete"
PIXELS = "The image has too many pixels"
PDF_DAMAGED = "The PDF is damaged or incomplete"
PDF_ENCRYPTED = "The PDF is encrypted or protected by a password"
OFFICE_DAMAGED = "The Office file is damaged or incomplete"
ZIP_BOMB = "it may be a zip bomb"
MACROS = "Office files with macros cannot be uploaded"
EMPTY = "The file is empty."


@dataclass(frozen=True)
class Case:
    data: bytes
    stored_as: str | None = None  # the content type of an accepted file
    refused: str | None = None  # a part of the message of a refused one


# --- images ------------------------------------------------------------------------------------


def image(fmt: str, **options) -> bytes:
    picture = Image.new("RGB", (48, 32))
    picture.putdata(
        [(x * 5 % 256, y * 7 % 256, (x * y) % 256) for y in range(32) for x in range(48)]
    )
    out = io.BytesIO()
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_chunk(png: bytes, chunk: bytes) -> bytes:
    """The chunk put right after IHDR."""
    end_of_ihdr = 8 + 25
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]


def pixel_bomb() -> bytes:
    """30,000 × 30,000 black pixels, under 500 bytes on disk."""
    width = height = 30_000
    rows = zlib.compress((b"\x00" + b"\x00" * (width // 8 + 1)) * 64, 9)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims another size."""
    data = bytearray(image("JPEG"))
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def corrupt_crc(png: bytes) -> bytes:
    data = bytearray(png)
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF
    return bytes(data)


# --- PDF ---------------------------------------------------------------------------------------


def pdf(password: str | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": "Benchmarking report"})
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def no_pages_pdf() -> bytes:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return body


# --- Office packages ---------------------------------------------------------------------------

TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{content_type}"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{part}"/></Relationships>'
)
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
SLIDES_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Minutes of the silver workshop</w:t></w:r></w:p></w:body>"
    "</w:document>"
)


def package(parts: dict[str, bytes | str], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def office(
    part="word/document.xml", content_type=WORD_MAIN, body: bytes | str = DOCUMENT, **extra
) -> bytes:
    parts = {
        "[Content_Types].xml": TYPES.format(part=part, content_type=content_type),
        "_rels/.rels": RELS.format(part=part),
        part: body,
    }
    parts.update(extra)
    return package(parts)


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["Indicator", "Score"])
    book.active.append(["Share of private funds", 3])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ratio_bomb() -> bytes:
    """A docx holding 20 MB of zeros, some 20 KB on disk."""
    return office(**{"word/media/zeros.bin": b"\x00" * (20 * 1024 * 1024)})


def lying_sizes() -> bytes:
    """A docx whose directory says a member unpacks to 3 GB (it does not)."""
    data = bytearray(office())
    entry = data.index(b"PK\x01\x02")  # the first entry of the central directory
    data[entry + 24 : entry + 28] = struct.pack("<I", 3 * 1024**3)
    return bytes(data)


def corrupt_member(docx: bytes) -> bytes:
    """A docx whose main part's packed bytes are damaged (its checksum no longer matches)."""
    data = bytearray(docx)
    header = data.index(b"PK\x03\x04word/document.xml"[:4], data.index(b"word/document.xml") - 30)
    start = header + 30 + len("word/document.xml")
    for offset in range(start + 5, start + 15):
        data[offset] ^= 0x55
    return bytes(data)


def without_main_part() -> bytes:
    return package(
        {
            "[Content_Types].xml": TYPES.format(part="word/document.xml", content_type=WORD_MAIN),
            "_rels/.rels": RELS.format(part="word/document.xml"),
        }
    )


def with_doctype() -> bytes:
    types = TYPES.format(part="word/document.xml", content_type=WORD_MAIN)
    types = types.replace("?>\n", '?>\n<!DOCTYPE Types [<!ENTITY a "aaaa">]>\n', 1)
    return package(
        {
            "[Content_Types].xml": types,
            "_rels/.rels": RELS.format(part="word/document.xml"),
            "word/document.xml": DOCUMENT,
        }
    )


def odt() -> bytes:
    return package(
        {
            "mimetype": "application/vnd.oasis.opendocument.text",
            "content.xml": "<office:document-content/>",
            "META-INF/manifest.xml": "<manifest:manifest/>",
        },
        compression=zipfile.ZIP_STORED,
    )


def cut(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def build() -> dict[str, Case]:
    png, jpeg, report, docx = image("PNG"), image("JPEG"), pdf(), office()
    page = b"<html><body><script>alert(document.cookie)</script></body></html>"
    return {
        # accepted
        "photo.png": Case(png, stored_as=PNG),
        "photo.jpg": Case(jpeg, stored_as=JPEG),
        "progressive.jpg": Case(image("JPEG", progressive=True), stored_as=JPEG),
        "phone-trailer.jpg": Case(jpeg + b"MPF\x00" + bytes(range(256)), stored_as=JPEG),
        "report.pdf": Case(report, stored_as=PDF),
        "minutes.docx": Case(docx, stored_as=DOCX),
        "scores.xlsx": Case(xlsx(), stored_as=XLSX),
        "slides.pptx": Case(
            office("ppt/presentation.xml", SLIDES_MAIN, "<p:presentation/>"), stored_as=PPTX
        ),
        # not an allowed kind
        "program.exe": Case(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00program", refused=NOT_ALLOWED),
        "notes.txt": Case("Notater fra møtet\n".encode(), refused=NOT_ALLOWED),
        "minutes.odt": Case(odt(), refused=NOT_ALLOWED),
        "archive.zip": Case(package({"a.txt": "a"}), refused=NOT_ALLOWED),
        # HTML: a page before, after or inside a valid file
        "page.html": Case(page, refused=HTML),
        "drawing.svg": Case(b'<svg xmlns="http://www.w3.org/2000/svg"/>', refused=HTML),
        "png-header-then-html.png": Case(b"\x89PNG\r\n\x1a\n" + page, refused=HTML),
        "png-html-in-text-chunk.png": Case(
            png_with_chunk(png, png_chunk(b"tEXt", b"Comment\x00" + page)), refused=HTML
        ),
        "jpeg-then-html.jpg": Case(jpeg + page, refused=HTML),
        "html-then-pdf.pdf": Case(page + report, refused=HTML),
        "pdf-then-html.pdf": Case(report + page, refused=HTML),
        "docx-then-html.docx": Case(docx + page, refused=HTML),
        # cut short
        "empty.pdf": Case(b"", refused=EMPTY),
        "half.png": Case(cut(png), refused=IMAGE_DAMAGED),
        "no-iend.png": Case(png[:-12], refused=IMAGE_DAMAGED),
        "half.jpg": Case(cut(jpeg), refused=IMAGE_DAMAGED),
        "no-end-marker.jpg": Case(jpeg[:-2], refused=IMAGE_DAMAGED),
        "half.pdf": Case(cut(report), refused=PDF_DAMAGED),
        "no-eof.pdf": Case(report[: report.rindex(b"%%EOF")], refused=PDF_DAMAGED),
        "half.docx": Case(cut(docx), refused=OFFICE_DAMAGED),
        "cut-end.xlsx": Case(xlsx()[:-30], refused=OFFICE_DAMAGED),
        # damaged or disguised otherwise
        "bad-checksum.png": Case(corrupt_crc(png), refused=IMAGE_DAMAGED),
        "png-then-bytes.png": Case(png + b"\x00\x01binary", refused=EXTRA),
        "docx-then-bytes.docx": Case(docx + b"\x00\x01binary", refused=EXTRA),
        "no-pages.pdf": Case(no_pages_pdf(), refused=PDF_DAMAGED),
        "encrypted.pdf": Case(pdf(password=""), refused=PDF_ENCRYPTED),
        "password.pdf": Case(pdf(password="secret"), refused=PDF_ENCRYPTED),
        "corrupt-member.docx": Case(corrupt_member(docx), refused=OFFICE_DAMAGED),
        "no-main-part.docx": Case(without_main_part(), refused=OFFICE_DAMAGED),
        "doctype.docx": Case(with_doctype(), refused=OFFICE_DAMAGED),
        "macros.docm": Case(
            office(
                content_type="application/vnd.ms-word.document.macroEnabled.main+xml",
                **{"word/vbaProject.bin": b"\x00" * 64},
            ),
            refused=MACROS,
        ),
        # decompression bombs
        "pixel-bomb.png": Case(pixel_bomb(), refused=PIXELS),
        "pixel-bomb.jpg": Case(jpeg_claiming(60_000, 60_000), refused=PIXELS),
        "ratio-bomb.docx": Case(ratio_bomb(), refused=ZIP_BOMB),
        "lying-sizes.docx": Case(lying_sizes(), refused=ZIP_BOMB),
    }


def main(folder: str) -> None:
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, case in build().items():
        (target / name).write_bytes(case.data)
        print(f"{name:28} {len(case.data):>9} B  {case.stored_as or 'refused: ' + case.refused}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "upload-corpus")
