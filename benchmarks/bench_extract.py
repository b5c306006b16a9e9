"""Agreement extraction: a 30-page agreement read and extracted, and the labelled set's quality.

- **speed**: ``dso_analytics.extract.extract_file`` on a 30-page agreement rendered as a
  text PDF (fpdf2) and as a DOCX (python-docx) from the same text: the 8-page labelled
  agreement ``a07-long-eight-pages`` followed by 22 pages of ordinary contract clauses
  (general terms, confidentiality, insurance, with their own numbers and days that must not
  be read as terms).  Each format runs in a fresh process; the timer covers reading the file
  (pypdf / python-docx), cutting it into sentences and every rule, imports excluded (they
  are reported as the process wall).  Target: <= 2 s per 30-page agreement.
- **quality**: every labelled agreement of ``tests/data/agreements`` (ground truth
  ``truth.yaml``) in PDF, DOCX and TXT; precision (returned values that are right) and
  recall (stated values found) over all fields, per format, and the per-field confusion.

Run alone: ``python benchmarks/bench_extract.py [--tiny]``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import DATA_DIR, fmt_s, run_case  # noqa: E402

PAGES = 30
TARGET_SECONDS = 2.0
BASE = "a07-long-eight-pages"

_FILLER = (
    "{a}.1 Each Party shall comply with all laws and regulations applicable to its performance "
    "of this Agreement, including laws on data protection, export control and anti-corruption.",
    "{a}.2 Neither Party shall be liable for any failure or delay caused by events beyond its "
    "reasonable control, provided that it notifies the other Party within five (5) days and "
    "resumes performance as soon as practicable.",
    "{a}.3 Provider shall maintain commercial general liability insurance of not less than "
    "$1,000,000 per occurrence and shall provide certificates of insurance upon request.",
    "{a}.4 Any dispute shall first be referred to the Parties' executives, who shall meet within "
    "fifteen (15) days; a dispute not resolved within forty-five (45) days may be submitted to "
    "mediation in the county of Client's principal office.",
    "{a}.5 Provider personnel performing on-site work shall follow Client's safety, infection "
    "control and patient privacy policies while at any Practice.",
    "{a}.6 Each Party shall retain the records relating to this Agreement for seven (7) years "
    "after its termination and make them available for audit on thirty (30) days' request.",
)


def long_agreement_pages(pages: int) -> list[list[Any]]:
    """The labelled 8-page agreement plus filler pages up to ``pages`` (blocks, see
    ``tests/support/agreement_docs.py``)."""
    from tests.support.agreement_docs import AGREEMENTS_DIR, Block, parse_source

    base = parse_source((AGREEMENTS_DIR / f"{BASE}.txt").read_text(encoding="ascii"))
    out = list(base[:-1])  # the notices and signature page goes last
    article = 15
    while len(out) < pages - 1:
        blocks = [Block(f"ARTICLE {article} - GENERAL PROVISIONS", heading=True)]
        blocks += [Block(p.format(a=article)) for p in _FILLER]
        out.append(blocks)
        article += 1
    out.append(base[-1])
    return out[:pages] if pages < len(base) else out


def prepare(timer: Any, out_dir: str, pages: int) -> dict[str, str]:
    """Write the long agreement as PDF and DOCX; return ``{format: path}`` (case function)."""
    from tests.support.agreement_docs import write_docx, write_pdf

    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    blocks = long_agreement_pages(pages)
    return {
        "pdf": str(write_pdf(blocks, d / f"agreement-{pages}p.pdf")),
        "docx": str(write_docx(blocks, d / f"agreement-{pages}p.docx")),
    }


def case_extract(timer: Any, path: str) -> dict:
    """``extract_file`` on one agreement (imports warmed up on a tiny text first)."""
    import dso_analytics.extract.rules  # noqa: F401 - import cost outside the timer
    from dso_analytics.extract import extract_file

    if path.endswith(".pdf"):
        import pypdf  # noqa: F401
    else:
        import docx  # noqa: F401
    with timer:
        ex = extract_file(path)
    d = ex.to_dict()
    found = {k: v["value"] for k, v in d["agreement"].items() if v is not None}
    return {"pages": ex.pages, "found": len(found), "columns": len(d["agreement"]),
            "notice_days": found.get("notice_days"), "monthly_rate": found.get("monthly_rate"),
            "services": len(d["services"]), "deliverables": len(d["documentation"])}  # fmt: skip


def case_labelled(timer: Any, out_dir: str, names: list[str] | None = None) -> dict:
    """Precision and recall over the labelled agreements, per format (rendering not timed)."""
    from dso_analytics.extract import extract_file
    from tests.support.agreement_docs import render_all
    from tests.support.extract_eval import Score, read_truth, score_one

    truth = read_truth()
    if names:
        truth = {k: v for k, v in truth.items() if k in names}
    files = render_all(Path(out_dir), names=list(truth))
    out: dict[str, Any] = {"agreements": len(truth)}
    for fmt in ("pdf", "docx", "txt"):
        score = Score()
        with timer:
            results = {stem: extract_file(files[stem][fmt]).to_dict() for stem in truth}
        for stem, want in truth.items():
            score_one(results[stem], want, f"{stem}.{fmt}", score)
        p, r, tp, returned, stated = score.totals()
        out[fmt] = {"precision": p, "recall": r, "right": tp, "returned": returned,
                    "stated": stated, "table": score.table(), "errors": score.errors}  # fmt: skip
    return out


def run(results: dict, data_dir: Path, log: Any = None, profile: bool = True,
        tiny: bool = False) -> None:  # fmt: skip
    """Run the extraction cases into ``results``."""
    pages = 3 if tiny else PAGES
    print(f"extract: a {pages}-page agreement (PDF, DOCX) and the labelled set", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-extract-", dir=data_dir))
    try:
        res = run_case("prepare agreement", "bench_extract:prepare",
                       {"out_dir": str(work), "pages": pages}, log=log)  # fmt: skip
        if not res.ok:
            raise RuntimeError(f"rendering the {pages}-page agreement failed: {res.error}")
        paths = res.info
        for fmt in ("pdf", "docx"):
            r = run_case(f"extract_file, {pages}-page {fmt.upper()}", "bench_extract:case_extract",
                         {"path": paths[fmt]}, log=log)  # fmt: skip
            state = f"{fmt_s(r.seconds)} s" if r.ok else f"FAILED: {r.error}"
            print(f"  {r.name}: {state}", flush=True)
            results[f"extract_{fmt}"] = r.to_dict()
            if profile and not tiny and r.ok and r.seconds > TARGET_SECONDS:
                prof = run_case(f"extract_file {fmt} (profiled)", "bench_extract:case_extract",
                                {"path": paths[fmt]}, profile=True, log=log)  # fmt: skip
                results[f"extract_{fmt}_profile"] = prof.profile
        names = ["a01-keystone-location", "a08-short-flat"] if tiny else None
        r = run_case("labelled agreements", "bench_extract:case_labelled",
                     {"out_dir": str(work / "labelled"), "names": names}, log=log)  # fmt: skip
        print(f"  {r.name}: {'ok' if r.ok else 'FAILED: ' + str(r.error)}", flush=True)
        results["extract_labelled"] = r.to_dict()
        results["extract_pages"] = pages
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(results: dict, target: float, head: str, row: Any, profile_block: Any) -> list[str]:
    """The BENCHMARKS.md section."""
    pages = results.get("extract_pages", PAGES)
    out = ["## 6. Agreement extraction", "",
           f"`dso_analytics.extract.extract_file` on a {pages}-page agreement (the labelled "
           f"8-page `{BASE}` followed by pages of ordinary clauses with their own numbers and "
           "days), rendered as a text PDF (fpdf2) and a DOCX (python-docx) from the same text; "
           "the time covers reading the file (pypdf / python-docx), cutting it into sentences "
           "and every rule, imports excluded.", "", head]  # fmt: skip
    for fmt in ("pdf", "docx"):
        out.append(row(f"{pages}-page {fmt.upper()}", results.get(f"extract_{fmt}")))
    info = (results.get("extract_pdf") or {}).get("info") or {}
    if info:
        out += ["", f"Found {info['found']} of {info['columns']} agreement columns, "
                f"{info['services']} services and {info['deliverables']} deliverables in the "
                f"PDF (notice_days {info['notice_days']}, monthly_rate {info['monthly_rate']}); "
                f"target <= {target:g} s per {PAGES}-page agreement."]  # fmt: skip
    lab = (results.get("extract_labelled") or {}).get("info") or {}
    if lab:
        out += ["", f"Quality on the {lab['agreements']} labelled agreements of "
                "`tests/data/agreements` (ground truth `truth.yaml`; precision = returned values "
                "that are right, recall = stated values found; targets 95% / 85%):", "",
                "| format | precision | recall | right / returned / stated |",
                "|---|---:|---:|---:|"]  # fmt: skip
        for fmt in ("pdf", "docx", "txt"):
            s = lab[fmt]
            out.append(f"| {fmt.upper()} | {s['precision']:.1%} | {s['recall']:.1%} | "
                       f"{s['right']} / {s['returned']} / {s['stated']} |")  # fmt: skip
        out += ["", "<details><summary>Confusion per field (PDF)</summary>", "", "```",
                lab["pdf"]["table"], "```", "", "</details>"]  # fmt: skip
    for fmt in ("pdf", "docx"):
        out += profile_block(f"cProfile of extract_file on the {fmt.upper()} (target missed)",
                             results.get(f"extract_{fmt}_profile"))  # fmt: skip
    out.append("")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the extraction benchmark alone and print the results as JSON."""
    tiny = "--tiny" in (argv if argv is not None else sys.argv[1:])
    results: dict = {}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    run(results, DATA_DIR, tiny=tiny, profile=False)
    print(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
