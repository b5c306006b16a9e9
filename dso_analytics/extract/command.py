"""The ``dso-analytics extract`` command (its options are declared in :mod:`dso_analytics.cli`).

``extract FILE... [--dso DSO_DIR] [--agreement-id ID] [--format json|xlsx] [--out FILE]``
reads each agreement and prints its terms as JSON, or writes the reviewable
draft ``agreements.draft.xlsx`` (default when ``--dso`` is given).
``extract --accept DRAFT --dso DSO_DIR [--force]`` merges the reviewed rows.

Every file is read before anything is written: one unreadable file stops the
command with one line naming it (exit 2) and nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dso_analytics.errors import DsoError


def run(args: argparse.Namespace) -> int:
    """Run ``extract`` from parsed arguments; return the exit code."""
    if args.accept:
        return _accept(args)
    if not args.files:
        raise DsoError("give one or more agreement FILEs to read, or --accept DRAFT --dso DSO_DIR")
    fmt = args.format or ("xlsx" if args.dso else "json")
    dso = None
    if args.dso:
        dso = Path(args.dso)
        if not dso.is_dir():
            raise DsoError(f"{args.dso}: no such DSO folder")
    if fmt == "xlsx" and dso is None and not args.out:
        raise DsoError("--format xlsx writes agreements.draft.xlsx into a DSO folder: give --dso")

    from dso_analytics.extract import extract_documents, extract_file, read_document

    try:
        if args.agreement_id and len(args.files) > 1:
            # one agreement in several files: the agreement first, then its amendments
            docs = [read_document(f) for f in args.files]  # each raises before anything is written
            results = [extract_documents(docs)]
        else:
            results = [
                extract_file(f) for f in args.files
            ]  # each raises before anything is written
    except DsoError:
        raise
    except Exception as exc:  # noqa: BLE001 - a rule bug must not show a traceback
        raise DsoError(
            f"{' '.join(args.files)}: extraction failed ({type(exc).__name__}: {exc}); "
            "nothing written. Please report it with the file"
        ) from None
    if fmt == "json":
        data = [r.to_dict() for r in results]
        text = json.dumps(data[0] if len(data) == 1 else data, indent=2, default=str)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            print(text)
        return 0

    from dso_analytics.extract.draft import DRAFT_NAME, write_draft

    out = Path(args.out) if args.out else dso / DRAFT_NAME  # type: ignore[operator]
    if out.name == "agreements.xlsx":
        raise DsoError(f"{out}: the draft never replaces agreements.xlsx (use --accept)")
    ids = [args.agreement_id] if args.agreement_id else None
    path = write_draft(results, out, agreement_ids=ids, force=args.force)
    for r in results:
        found = sum(t is not None and t.value is not None for t in r.terms.agreement.values())
        print(f"{r.file}: {found} of {len(r.terms.agreement)} agreement terms found, "
              f"{len(r.terms.services)} services, {len(r.terms.documentation)} deliverables "
              f"({r.pages} pages)")  # fmt: skip
    print(f"wrote {path} (review it, set reviewed = yes, then: dso-analytics extract --accept "
          f"{path} --dso {args.dso or path.parent})")  # fmt: skip
    return 0


def _accept(args: argparse.Namespace) -> int:
    from dso_analytics.extract.draft import AcceptRefused, accept_draft

    if args.files:
        raise DsoError("--accept takes the DRAFT only (no agreement FILE)")
    if not args.dso:
        raise DsoError("--accept needs --dso DSO_DIR (the folder whose agreements.xlsx to update)")
    dso = Path(args.dso)
    if not dso.is_dir():
        raise DsoError(f"{args.dso}: no such DSO folder")
    try:
        res = accept_draft(args.accept, dso, force=args.force)
    except AcceptRefused as exc:
        print(str(exc), file=sys.stderr)
        return 1
    parts = []
    if res.added:
        parts.append(f"added {', '.join(res.added)}")
    if res.replaced:
        parts.append(f"replaced {', '.join(res.replaced)}")
    if res.unchanged:
        parts.append(f"already there {', '.join(res.unchanged)}")
    print(f"{res.path}: {'; '.join(parts) or 'nothing to merge'}")
    if res.backup:
        print(f"backup: {res.backup}")
    print(f"validation: no new problem ({res.problems_before} before the merge)")
    return 0
