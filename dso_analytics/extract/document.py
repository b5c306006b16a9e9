"""Read an agreement (text PDF, DOCX or plain text) into pages of text.

Only the text is read: page numbers are kept so that every extracted term can
cite its page.

* **PDF** (pypdf): one page of text per PDF page.  A PDF without a text layer
  (a scan) is refused: OCR is not in scope.
* **DOCX** (python-docx): paragraphs and tables in document order (a table row
  becomes one line, cells separated by `` | ``).  Pages are the page breaks
  as written: Word's own layout marks (``w:lastRenderedPageBreak``, saved by
  Word) when the file has them, else explicit page breaks, "page break
  before" paragraphs and section breaks.
* **TXT**: UTF-8 (or cp1252); form feeds separate pages.

Limits (each refusal is one line naming the file, exit code 2):
:data:`MAX_FILE_BYTES` per file, :data:`MAX_PAGES` pages, :data:`MAX_TEXT_CHARS`
characters of text, encrypted PDFs that
do not open without a password, corrupt files, and texts that do not read as
an agreement (:func:`check_agreement_text`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dso_analytics.errors import InputFileError

#: Largest agreement file read (bytes).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Most pages read from one agreement.
MAX_PAGES = 300
#: Most characters of text read from one agreement (about 600 dense pages; a longer text is
#: not one agreement, and the rules take about 1 ms per sentence).
MAX_TEXT_CHARS = 2_000_000
#: A DOCX whose parts unpack to more than this is refused (zip bomb).
MAX_DOCX_UNPACKED_BYTES = 100 * 1024 * 1024
#: A PDF whose pages average fewer text characters than this has no text layer.
MIN_CHARS_PER_PAGE = 25

SUFFIXES = (".pdf", ".docx", ".txt")

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass(frozen=True)
class Document:
    """The text of one agreement, page by page.

    Parameters
    ----------
    path : Path
        The file read.
    pages : tuple of str
        Text of each page (page 1 first); lines separated by ``\\n``.
    kind : str
        ``pdf``, ``docx`` or ``txt``.
    """

    path: Path
    pages: tuple[str, ...]
    kind: str

    @property
    def name(self) -> str:
        """File name as shown to the user."""
        return self.path.name


def read_document(path: str | Path) -> Document:
    """Read an agreement file into pages of text.

    Parameters
    ----------
    path : str or Path
        A ``.pdf``, ``.docx`` or ``.txt`` file.

    Returns
    -------
    Document

    Raises
    ------
    InputFileError
        Unsupported type, missing, empty, too large, encrypted, corrupt, scanned
        (no text layer), too many pages, or not an agreement.
    """
    p = Path(path)
    shown = str(path)
    if p.suffix.lower() not in SUFFIXES:
        raise InputFileError(
            shown,
            f"not a supported agreement file (use {', '.join(SUFFIXES)}; .doc: save as .docx)",
        )
    if not p.is_file():
        raise InputFileError(shown, "no such file")
    size = p.stat().st_size
    if size == 0:
        raise InputFileError(shown, "is empty")
    if size > MAX_FILE_BYTES:
        raise InputFileError(
            shown,
            f"is {size / 1024 / 1024:.1f} MB, larger than the {MAX_FILE_BYTES // 1024 // 1024} MB "
            "limit for an agreement",
        )
    data = p.read_bytes()
    kind = p.suffix.lower().lstrip(".")
    if kind == "pdf":
        pages = _read_pdf(data, shown)
    elif kind == "docx":
        pages = _read_docx(data, shown)
    else:
        pages = _read_txt(data, shown)
    if len(pages) > MAX_PAGES:
        raise InputFileError(shown, f"has {len(pages)} pages, more than the {MAX_PAGES}-page limit")
    chars = sum(len(p) for p in pages)
    if chars > MAX_TEXT_CHARS:
        raise InputFileError(
            shown, f"holds {chars:,} characters of text, more than the {MAX_TEXT_CHARS:,} limit"
        )
    check_agreement_text(pages, shown)
    return Document(path=p, pages=tuple(pages), kind=kind)


# ---------------------------------------------------------------------------
def _read_pdf(data: bytes, shown: str) -> list[str]:
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise InputFileError(shown, "is not a PDF file (no %PDF header)")
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    import io

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - unsupported encryption is "encrypted" too
                opened = 0
            if not opened:
                raise InputFileError(
                    shown,
                    "is encrypted (password protected): save an unprotected copy and extract again",
                )
        n = len(reader.pages)
        if n > MAX_PAGES:
            raise InputFileError(shown, f"has {n} pages, more than the {MAX_PAGES}-page limit")
        pages = [(page.extract_text() or "") for page in reader.pages]
    except InputFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise InputFileError(
            shown, f"is a corrupt or unreadable PDF ({_first_line(exc)})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged files
        raise InputFileError(
            shown, f"is a corrupt or unreadable PDF ({_first_line(exc)})"
        ) from None
    if not pages:
        raise InputFileError(shown, "has no pages")
    chars = sum(len(re.sub(r"\s", "", t)) for t in pages)
    blank = sum(1 for t in pages if len(re.sub(r"\s", "", t)) < MIN_CHARS_PER_PAGE)
    if chars < MIN_CHARS_PER_PAGE * len(pages) or blank > len(pages) / 2:
        raise InputFileError(
            shown,
            "has no text layer (a scanned PDF?): OCR is not supported; export the agreement "
            "as a text PDF or Word file, or OCR it first (e.g. ocrmypdf), then extract again",
        )
    return pages


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:120]


def _read_docx(data: bytes, shown: str) -> list[str]:
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputFileError(
            shown, "is not a Word .docx file (not a zip package; an old .doc? save as .docx)"
        ) from None
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise InputFileError(shown, "is not a Word .docx file (no word/document.xml)")
    if any(i.flag_bits & 0x1 for i in infos):
        raise InputFileError(shown, "is encrypted: save an unprotected copy and extract again")
    if len(infos) > 5000 or sum(i.file_size for i in infos) > MAX_DOCX_UNPACKED_BYTES:
        raise InputFileError(shown, "unpacks to too much data (a zip bomb?)")
    try:
        body_xml = zf.read("word/document.xml")
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputFileError(shown, f"is a corrupt .docx ({_first_line(exc)})") from None
    if b"<!DOCTYPE" in body_xml or b"<!ENTITY" in body_xml:
        raise InputFileError(shown, "contains an XML DOCTYPE/ENTITY declaration (refused)")
    import docx

    try:
        d = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx/lxml raise many types
        raise InputFileError(shown, f"is a corrupt .docx ({_first_line(exc)})") from None
    return _docx_pages(d.element.body)


def _docx_pages(body) -> list[str]:  # noqa: ANN001 - lxml element
    rendered = next(body.iter(f"{_W}lastRenderedPageBreak"), None) is not None
    pages: list[list[str]] = [[]]
    line: list[str] = []

    def end_line() -> None:
        text = "".join(line).strip()
        if text:
            pages[-1].append(text)
        line.clear()

    def new_page() -> None:
        end_line()
        if pages[-1]:
            pages.append([])

    for child in body.iterchildren():
        tag = child.tag
        if tag == f"{_W}p":
            ppr = child.find(f"{_W}pPr")
            if ppr is not None and not rendered:
                pbb = ppr.find(f"{_W}pageBreakBefore")
                if pbb is not None and pbb.get(f"{_W}val", "1") not in ("0", "false"):
                    new_page()
            for el in child.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}lastRenderedPageBreak"):
                t = el.tag
                if t == f"{_W}t":
                    line.append(el.text or "")
                elif t == f"{_W}tab":
                    line.append(" ")
                elif t == f"{_W}br":
                    if el.get(f"{_W}type") == "page":
                        if not rendered:
                            new_page()
                    else:
                        end_line()
                elif rendered:
                    new_page()
            end_line()
            if ppr is not None and not rendered and ppr.find(f"{_W}sectPr") is not None:
                new_page()
        elif tag == f"{_W}tbl":
            for tr in child.iter(f"{_W}tr"):
                cells = []
                for tc in tr.iterchildren(f"{_W}tc"):
                    paras = (
                        "".join(t.text or "" for t in q.iter(f"{_W}t")) for q in tc.iter(f"{_W}p")
                    )
                    cells.append(" ".join(" ".join(paras).split()))
                if rendered and next(tr.iter(f"{_W}lastRenderedPageBreak"), None) is not None:
                    new_page()
                text = " | ".join(cells).strip(" |")
                if text:
                    pages[-1].append(text)
    end_line()
    if not pages[-1] and len(pages) > 1:
        pages.pop()
    return ["\n".join(p) for p in pages]


def _read_txt(data: bytes, shown: str) -> list[str]:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(shown, "is not a text file (binary content)")
    for enc in ("utf-8-sig", "utf-16"):
        if enc == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("cp1252", errors="replace")
    pages = text.replace("\r\n", "\n").replace("\r", "\n").split("\f")
    while len(pages) > 1 and not pages[-1].strip():
        pages.pop()
    return pages


_CONTRACT_WORDS = re.compile(
    r"\b(agreement|contract|terms and conditions|statement of work|master services)\b", re.I
)
_TERM_WORDS = re.compile(
    r"\b(term|fees?|services?|part(?:y|ies)|provider|client|customer|shall|renew\w*|"
    r"terminat\w*|notice|pay|invoices?|provide|support|months?|sign)\b",
    re.I,
)


def check_agreement_text(pages: list[str] | tuple[str, ...], shown: str) -> None:
    """Refuse a text that does not read as an agreement.

    An agreement names itself (agreement, contract, statement of work...) and
    uses at least three distinct words of contract language (term, fees,
    services, parties, shall, renewal, notice, pay, invoice...).

    Raises
    ------
    InputFileError
        When the text is empty or does not read as an agreement.
    """
    text = "\n".join(pages)
    if not text.strip():
        raise InputFileError(shown, "contains no text")
    head = text[:200_000]
    words = {m.group(1).lower().rstrip("s") for m in _TERM_WORDS.finditer(head)}
    if not _CONTRACT_WORDS.search(head) or len(words) < 3:
        raise InputFileError(
            shown,
            "does not read as an agreement (no agreement/contract wording with term, fee, "
            "services or notice clauses): nothing extracted",
        )
