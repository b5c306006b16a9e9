"""Render the labelled agreement texts of ``tests/data/agreements`` as PDF, DOCX and TXT.

A source text is plain ASCII: ``[page]`` lines separate pages, blank lines separate
paragraphs, lines starting with ``|`` are table rows (cells separated by ``|``) and
an upper-case line is a heading.  The same text becomes

- a PDF written with fpdf2 (a real table for table rows, one PDF page per ``[page]``),
- a DOCX written with python-docx (explicit page breaks, real Word tables, typographic
  quotes as Word would type them),
- a TXT with form feeds between pages.

Used by ``tests/integration/test_extract*.py`` and ``benchmarks/bench_extract.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import DATA

AGREEMENTS_DIR = DATA / "agreements"
PAGE_MARK = "[page]"


@dataclass
class Block:
    """A paragraph (``rows`` empty) or a table (``rows``: list of cell lists)."""

    text: str = ""
    heading: bool = False
    rows: list[list[str]] | None = None


def _blocks(chunk: str) -> list[Block]:
    blocks: list[Block] = []
    para: list[str] = []
    table: list[list[str]] = []
    for line in [*chunk.splitlines(), ""]:
        s = line.strip()
        is_row = s.startswith("|")
        if para and (not s or is_row):
            joined = " ".join(para)
            blocks.append(Block(joined, heading=joined.isupper() and len(joined) < 90))
            para = []
        if table and not is_row:
            blocks.append(Block(rows=table))
            table = []
        if is_row:
            table.append([c.strip() for c in s.strip("|").split("|")])
        elif s:
            para.append(s)
    return blocks


def parse_source(text: str) -> list[list[Block]]:
    """Split a source text into pages of blocks."""
    pages = [_blocks(chunk) for chunk in re.split(r"^\[page\]\s*$", text, flags=re.M)]
    return [p for p in pages if p]


def smart_quotes(text: str) -> str:
    """Typographic quotes and apostrophes, as a word processor types them."""
    text = re.sub(r'"(?=\w)', "\u201c", text)
    text = text.replace('"', "\u201d")
    return text.replace("'", "\u2019")


def write_pdf(pages: list[list[Block]], path: Path) -> Path:
    """Write the pages as a text PDF (one PDF page per source page); return ``path``."""
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(20, 18, 20)
    for blocks in pages:
        pdf.add_page()
        for b in blocks:
            if b.rows:
                pdf.set_font("Helvetica", size=9)
                width = max(len(r) for r in b.rows)
                with pdf.table(line_height=5, first_row_as_headings=True) as table:
                    for r in b.rows:
                        row = table.row()
                        for c in r + [""] * (width - len(r)):
                            row.cell(c)
                pdf.ln(3)
            else:
                pdf.set_font("Helvetica", style="B" if b.heading else "", size=10)
                pdf.multi_cell(0, 5, b.text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2.5)
    pdf.output(str(path))
    return path


def write_docx(pages: list[list[Block]], path: Path) -> Path:
    """Write the pages as a Word document with explicit page breaks; return ``path``."""
    import docx

    doc = docx.Document()
    for i, blocks in enumerate(pages):
        if i:
            doc.add_page_break()
        for b in blocks:
            if b.rows:
                width = max(len(r) for r in b.rows)
                t = doc.add_table(rows=len(b.rows), cols=width)
                t.style = "Table Grid"
                for r, cells in enumerate(b.rows):
                    for c, value in enumerate(cells):
                        t.cell(r, c).text = smart_quotes(value)
            elif b.heading:
                doc.add_heading(b.text, level=2)
            else:
                doc.add_paragraph(smart_quotes(b.text))
    doc.save(str(path))
    return path


def write_txt(pages: list[list[Block]], path: Path) -> Path:
    """Write the pages as plain text, pages separated by form feeds; return ``path``."""
    out = []
    for blocks in pages:
        parts = []
        for b in blocks:
            if b.rows:
                parts.append("\n".join(" | ".join(r) for r in b.rows))
            else:
                parts.append(b.text)
        out.append("\n\n".join(parts))
    path.write_text("\n\f".join(out) + "\n", encoding="utf-8")
    return path


def write_html(pages: list[list[Block]], path: Path) -> Path:
    """Write the pages as HTML (justified serif text, real tables, a CSS page break per page)."""
    import html

    esc = html.escape
    out = ["<!doctype html><html><head><meta charset='utf-8'><style>"
           "body{font-family:serif;font-size:11pt;text-align:justify}"
           ".pg{break-after:page}table{border-collapse:collapse}"
           "td{border:1px solid #444;padding:3px}</style></head><body>"]  # fmt: skip
    for i, blocks in enumerate(pages):
        out.append("<div class='pg'>" if i < len(pages) - 1 else "<div>")
        for b in blocks:
            if b.rows:
                rows = "".join(
                    "<tr>" + "".join(f"<td>{esc(smart_quotes(c))}</td>" for c in r) + "</tr>"
                    for r in b.rows
                )
                out.append(f"<table>{rows}</table>")
            elif b.heading:
                out.append(f"<h3>{esc(b.text)}</h3>")
            else:
                out.append(f"<p>{esc(smart_quotes(b.text))}</p>")
        out.append("</div>")
    out.append("</body></html>")
    path.write_text("".join(out), encoding="utf-8")
    return path


def write_chromium_pdf(pages: list[list[Block]], path: Path, chromium: str) -> Path:
    """Print the pages to PDF with headless Chromium (another PDF producer than fpdf2)."""
    import subprocess

    src = write_html(pages, path.with_suffix(".html"))
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--user-data-dir={path.parent / ('.chromium-' + path.stem)}",
         f"--print-to-pdf={path}", src.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return path


def render_all(out_dir: Path, names: list[str] | None = None) -> dict[str, dict[str, Path]]:
    """Render every labelled agreement (or ``names``) as pdf, docx and txt into ``out_dir``.

    Returns ``{name: {"pdf": path, "docx": path, "txt": path}}``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, dict[str, Path]] = {}
    for src in sorted(AGREEMENTS_DIR.glob("*.txt")):
        if names and src.stem not in names:
            continue
        pages = parse_source(src.read_text(encoding="ascii"))
        result[src.stem] = {
            "pdf": write_pdf(pages, out_dir / f"{src.stem}.pdf"),
            "docx": write_docx(pages, out_dir / f"{src.stem}.docx"),
            "txt": write_txt(pages, out_dir / f"{src.stem}.txt"),
        }
    return result


def page_count(src_stem: str) -> int:
    """Number of pages of a labelled source text."""
    text = (AGREEMENTS_DIR / f"{src_stem}.txt").read_text(encoding="ascii")
    return len(parse_source(text))
