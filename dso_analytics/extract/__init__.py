"""Draft the agreements sheet from the agreement itself (PDF, DOCX or text).

``extract_file(path)`` reads one agreement (:mod:`.document`), cuts it into
sentences and table rows with page numbers (:mod:`.text`) and applies the term
rules (:mod:`.rules`): every value carries its page, the sentence it came from
and a confidence; a term the text does not state is ``None``.
:mod:`.draft` writes the reviewable ``agreements.draft.xlsx`` and merges a
reviewed draft into ``agreements.xlsx``.

Imports only the standard library, pypdf and python-docx (lazily, per file
type): never pandas' heavy friends, Great Expectations, papermill or plotly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dso_analytics.extract.document import MAX_FILE_BYTES, MAX_PAGES, Document, read_document
from dso_analytics.extract.rules import EXTRACTED_COLUMNS, EXTRACTED_SERVICES, Term, TermSet
from dso_analytics.extract.text import segment

__all__ = [
    "EXTRACTED_COLUMNS",
    "EXTRACTED_SERVICES",
    "MAX_FILE_BYTES",
    "MAX_PAGES",
    "Document",
    "Extraction",
    "Term",
    "extract_document",
    "extract_documents",
    "extract_file",
    "read_document",
]


@dataclass
class Extraction:
    """The terms read from one agreement file.

    Attributes
    ----------
    file : str
        The file as given.
    pages : int
        Pages read.
    terms : TermSet
        Agreement columns, services and documentation deliverables.
    """

    file: str
    pages: int
    terms: TermSet

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the documented ``extract --format json`` layout."""

        def cite(t: Term) -> dict[str, Any]:
            return {"file": t.file} if t.file else {}

        def term(t: Term | None) -> dict[str, Any] | None:
            if t is None:
                return None
            return {"value": t.value, **cite(t), "page": t.page, "evidence": t.evidence,
                    "confidence": t.confidence}  # fmt: skip

        services = {}
        for code, t in self.terms.services.items():
            d: dict[str, Any] = {"coverage": t.value, **cite(t), "page": t.page,
                                 "evidence": t.evidence, "confidence": t.confidence}  # fmt: skip
            d.update(t.extra)
            services[code] = d
        documentation = {
            code: {
                "specified": t.value,
                **cite(t),
                "page": t.page,
                "evidence": t.evidence,
                "confidence": t.confidence,
            }  # fmt: skip
            for code, t in self.terms.documentation.items()
        }
        return {
            "file": self.file,
            "pages": self.pages,
            "agreement": {c: term(t) for c, t in self.terms.agreement.items()},
            "services": services,
            "documentation": documentation,
        }


def extract_document(doc: Document, file: str | None = None) -> Extraction:
    """Extract the terms of an already read document.

    Parameters
    ----------
    doc : Document
    file : str, optional
        Name to report (default: the document's path).

    Returns
    -------
    Extraction
    """
    from dso_analytics.extract.rules import extract_terms

    return Extraction(
        file=file if file is not None else str(doc.path),
        pages=len(doc.pages),
        terms=extract_terms(segment(doc)),
    )


def extract_documents(docs: list[Document], file: str | None = None) -> Extraction:
    """Extract one agreement from several documents: the agreement, then its amendments.

    The documents are read in the order given; an amendment (a document or section under an
    "Amendment" heading, or a sentence replacing a section) wins over what it amends, the
    last one first.  Every value then also names its ``file``.

    Parameters
    ----------
    docs : list of Document
        The agreement first.
    file : str, optional
        Name to report (default: the documents' names joined by ``" + "``).

    Returns
    -------
    Extraction
    """
    from dso_analytics.extract.rules import extract_terms

    units = []
    for d in docs:
        units += segment(d, source=d.name if len(docs) > 1 else "", start=len(units))
    return Extraction(
        file=file if file is not None else " + ".join(str(d.path) for d in docs),
        pages=sum(len(d.pages) for d in docs),
        terms=extract_terms(units),
    )


def extract_file(path: str | Path) -> Extraction:
    """Read one agreement file and extract its terms.

    Parameters
    ----------
    path : str or Path
        ``.pdf`` (with a text layer), ``.docx`` or ``.txt``.

    Returns
    -------
    Extraction

    Raises
    ------
    dso_analytics.errors.InputFileError
        When the file cannot be read as an agreement (see :func:`read_document`).
    """
    return extract_document(read_document(path), file=str(path))
