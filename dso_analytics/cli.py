"""Command-line interface: parse arguments, call the package, print, exit.

Exit codes: 0 success; 1 the input has problems (validation failed, a DSO
failed to render); 2 a usage error or a file that cannot be read.

Heavy libraries (Great Expectations, papermill, plotly) are imported only by
the command that needs them, never by ``--help``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dso_analytics import __version__
from dso_analytics.errors import DsoError, ValidationFailed, printable
from dso_analytics.stages import CALENDAR_FILE, LETTERS_DIR
from dso_analytics.words import plural

if TYPE_CHECKING:
    from dso_analytics.standards import Params


def _add_param_options(p: argparse.ArgumentParser) -> None:
    # values are checked (one line, exit 2) by standards.check_overrides, not by argparse,
    # so that money takes the forms the data takes ($5,000)
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="as-of date (default: latest invoice)")
    p.add_argument(
        "--target-onboarding-cap",
        metavar="AMOUNT",
        help="DSO-grade flat onboarding fee per location, e.g. 5000 or $5,000 "
        "(default from the standard: 5000)",
    )
    p.add_argument(
        "--target-onboarding-sla",
        metavar="DAYS",
        dest="target_onboarding_sla_business_days",
        help="DSO-grade onboarding SLA in business days (default 10)",
    )
    p.add_argument(
        "--benchmark-band",
        nargs=2,
        metavar=("LOW", "HIGH"),
        dest="benchmark_workstation_monthly",
        help="market band of price per workstation per month, LOW <= HIGH (default 100 200)",
    )
    p.add_argument("--standard", metavar="FILE", help="a DSO-grade standard YAML file to use")


def build_parser() -> argparse.ArgumentParser:
    """Build the ``dso-analytics`` argument parser (no heavy imports)."""
    parser = argparse.ArgumentParser(
        prog="dso-analytics",
        description=(
            "Renewal leverage for dental service organizations' managed-IT agreements: "
            "validate a DSO folder, compute its metrics, render its reports."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    _add_report_parsers(sub)
    _add_data_parsers(sub)
    _add_action_parsers(sub)
    return parser


def _add_no_cache(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", action="store_true", help="ignore the validated snapshot cache")


def _add_report_parsers(sub: Any) -> None:
    """validate, metrics, report, scenarios: the commands that read a DSO's figures."""
    p = sub.add_parser("validate", help="read and validate one DSO folder")
    p.add_argument("dso_dir", metavar="DSO_DIR")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="as-of date for the date checks")
    _add_no_cache(p)

    p = sub.add_parser("metrics", help="compute the renewal metrics of a DSO or a portfolio")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("dso_dir", nargs="?", metavar="DSO_DIR")
    target.add_argument("--all", metavar="PORTFOLIO", help="every DSO folder of a portfolio")
    p.add_argument("--format", choices=("json", "table"), default="table")
    _add_no_cache(p)
    _add_param_options(p)

    p = sub.add_parser("report", help="render renewal-leverage reports (HTML + Excel)")
    p.add_argument("dso_dirs", nargs="*", metavar="DSO_DIR")
    p.add_argument("--all", metavar="PORTFOLIO", help="every DSO of a portfolio + the overview")
    p.add_argument("--out", default="reports", metavar="DIR", help="output folder (reports/)")
    p.add_argument("--jobs", type=int, metavar="N", help="parallel DSOs (default: cores)")
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the per-DSO jobs on a Dask distributed scheduler",
    )
    p.add_argument("--cell-timeout", type=int, default=600, metavar="S")
    p.add_argument("--timeout", type=int, default=1800, metavar="S", help="per-DSO timeout")
    _add_no_cache(p)
    p.add_argument("--quiet", action="store_true", help="no progress display")
    _add_param_options(p)

    p = sub.add_parser("scenarios", help="model the renewal deal forward: scenarios side by side")
    p.add_argument("dso_dir", metavar="DSO_DIR")
    p.add_argument("--scenarios", metavar="FILE", help="scenarios file (default: the DSO's own)")
    p.add_argument("--term-months", type=int, metavar="N", help="length of the modelled term")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--notebook",
        metavar="OUT.ipynb",
        help="also render the negotiation scenarios notebook (and OUT.html beside it)",
    )
    _add_no_cache(p)
    _add_param_options(p)


def _add_data_parsers(sub: Any) -> None:
    """sample, profiles, import, extract: the commands that write a DSO's input files."""
    p = sub.add_parser("sample", help="write the deterministic sample portfolio (or a scaled DSO)")
    p.add_argument("out", metavar="OUT")
    p.add_argument("--locations", type=int, metavar="N", help="one scaled DSO of N locations")
    p.add_argument("--months", type=int, default=36, metavar="M")
    p.add_argument("--seed", type=int, default=7, metavar="S")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", dest="file_format")
    p.add_argument("--force", action="store_true", help="replace an existing OUT")

    p = sub.add_parser("profiles", help="list the provider-export profiles")
    p.add_argument("--dso", metavar="DSO_DIR", help="include this DSO's own profiles/")
    p.add_argument(
        "--save",
        nargs=2,
        metavar=("NAME", "FILE"),
        help="infer a profile from FILE (generic invoice-lines mapping) and write it to "
        "DSO_DIR/profiles/NAME.yaml (printed when --dso is not given)",
    )

    p = sub.add_parser("import", help="convert a provider export into a contract billing file")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dso", required=True, metavar="DSO_DIR")
    p.add_argument("--profile", metavar="NAME", help="profile to use (default: detect)")
    p.add_argument("--force", action="store_true", help="overwrite an existing billing file")
    p.add_argument(
        "--location",
        metavar="LOC-ID",
        help="a single-location export with no site column: every line is this location_id's",
    )

    p = sub.add_parser("extract", help="draft the agreements sheet from PDF/Word agreements")
    p.add_argument("files", nargs="*", metavar="FILE", help="agreement .pdf, .docx or .txt")
    p.add_argument("--dso", metavar="DSO_DIR", help="DSO folder (the xlsx draft is written there)")
    p.add_argument(
        "--agreement-id",
        metavar="ID",
        help="agreement_id of the draft row; several FILEs are then one agreement and its amendments",
    )
    p.add_argument("--format", choices=("json", "xlsx"), help="default: xlsx with --dso, else json")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout / the draft")
    p.add_argument("--accept", metavar="DRAFT", help="merge a reviewed draft into agreements.xlsx")
    p.add_argument("--force", action="store_true", help="replace a draft / conflicting agreements")


def _add_action_parsers(sub: Any) -> None:
    """Subcommands that turn findings into actions (calendar, letters, negotiation log)."""
    p = sub.add_parser("calendar", help="write notice deadlines and term ends as an .ics file")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("dso_dir", nargs="?", metavar="DSO_DIR")
    target.add_argument("--all", metavar="PORTFOLIO", help="every DSO folder of a portfolio")
    p.add_argument(
        "--out",
        metavar="FILE.ics",
        help=f"default: reports/<dso>/{CALENDAR_FILE} (--all: reports/portfolio/...)",
    )
    p.add_argument(
        "--remind",
        default="120,90,60,30",
        metavar="DAYS,...",
        help="alarms, in days before each event (default 120,90,60,30)",
    )
    p.add_argument("--no-cache", action="store_true", help="ignore the validated snapshot cache")
    _add_param_options(p)

    p = sub.add_parser("letters", help="write credit-claim and notice letters (.docx)")
    p.add_argument("dso_dir", metavar="DSO_DIR")
    p.add_argument("--out", metavar="DIR", help=f"default: reports/<dso>/{LETTERS_DIR}/")
    p.add_argument(
        "--horizon",
        type=int,
        default=120,
        metavar="DAYS",
        help="notice letters for deadlines within DAYS of as-of, or missed windows (120)",
    )
    p.add_argument("--no-cache", action="store_true", help="ignore the validated snapshot cache")
    _add_param_options(p)

    p = sub.add_parser("log", help="the negotiation log negotiation.xlsx (init, sync, check)")
    p.add_argument("action", choices=("init", "sync", "check"), help="init | sync | check")
    p.add_argument("dso_dir", metavar="DSO_DIR")
    p.add_argument("--no-cache", action="store_true", help="ignore the validated snapshot cache")
    _add_param_options(p)


# ---------------------------------------------------------------------------
_OVERRIDES = (
    "as_of",
    "target_onboarding_cap",
    "target_onboarding_sla_business_days",
    "benchmark_workstation_monthly",
)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The parameter options given on the command line, checked and typed (exit 2 if bad)."""
    from dso_analytics.standards import check_overrides

    return check_overrides({k: getattr(args, k, None) for k in _OVERRIDES})


def _params(args: argparse.Namespace, dso_dir: str | Path | None = None) -> Params:
    from dso_analytics.standards import resolve_params

    return resolve_params(
        dso_dir, standard=getattr(args, "standard", None), overrides=_overrides(args)
    )


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)


def _existing_dir(path: str, what: str = "DSO folder") -> Path:
    p = Path(path)
    if not p.exists():
        raise DsoError(f"{path}: no such {what}")
    if not p.is_dir():
        raise DsoError(f"{path}: not a folder (a {what} is a folder)")
    return p


def _cmd_validate(args: argparse.Namespace) -> int:
    from dso_analytics.validation import validate_dso

    dso_dir = _existing_dir(args.dso_dir)
    params = _params(args, dso_dir)
    report = validate_dso(dso_dir, params=params, use_cache=not args.no_cache)
    if params.as_of is not None and report.dataset is not None:
        from dso_analytics.standards import as_of_warning

        billing = report.dataset.billing
        dates = billing["invoice_date"] if "invoice_date" in billing.columns else None
        if note := as_of_warning(params.as_of, dates):
            _warn(f"{dso_dir.name}: {note}")
    from dso_analytics.actions.negotiation import check_log_of

    report.problems.extend(check_log_of(dso_dir, report.dataset, params, report.ok))
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.to_text())
    return 0 if report.ok else 1


def _portfolio_dirs(portfolio: str) -> list[Path]:
    from dso_analytics.ingest import list_dso_dirs

    return list_dso_dirs(_existing_dir(portfolio, "portfolio folder"))


def _cmd_metrics(args: argparse.Namespace) -> int:
    from dso_analytics.metrics import (
        compute_metrics,
        compute_portfolio,
        format_metrics_table,
        format_portfolio_table,
        metrics_to_dict,
        portfolio_to_dict,
    )
    from dso_analytics.validation import load_dso

    dirs = _portfolio_dirs(args.all) if args.all else [_existing_dir(args.dso_dir)]
    results = []
    for d in dirs:
        params = _params(args, d)
        ds = load_dso(d, params=params, use_cache=not args.no_cache)
        results.append(m := compute_metrics(ds, params))
        if m.as_of_warning:
            _warn(f"{m.dso}: {m.as_of_warning}")
    if args.all:
        roll = compute_portfolio(results)
        if args.format == "json":
            print(json.dumps(portfolio_to_dict(roll, results), indent=2))
        else:
            print(format_portfolio_table(roll))
    else:
        if args.format == "json":
            print(json.dumps(metrics_to_dict(results[0]), indent=2))
        else:
            print(format_metrics_table(results[0]))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from dso_analytics.pipeline import render_reports

    if bool(args.all) == bool(args.dso_dirs):
        raise DsoError("give either DSO_DIR... or --all PORTFOLIO")
    dirs = _portfolio_dirs(args.all) if args.all else [_existing_dir(d) for d in args.dso_dirs]
    from dso_analytics.runguard import prepare_output_dir

    prepare_output_dir(args.out)  # an existing file or an unwritable place: one line, exit 2
    batch = render_reports(
        dirs,
        out_dir=Path(args.out),
        portfolio=bool(args.all),
        overrides=_overrides(args),
        standard=args.standard,
        jobs=args.jobs or os.cpu_count() or 1,
        scheduler=args.scheduler,
        cell_timeout=args.cell_timeout,
        timeout=args.timeout,
        use_cache=not args.no_cache,
        progress=not args.quiet,
    )
    return 0 if batch.ok else 1


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from dso_analytics.ingest.scenarios import dso_scenarios
    from dso_analytics.metrics import compute_metrics
    from dso_analytics.metrics.scenarios import comparison_to_dict, format_comparison_table
    from dso_analytics.validation import load_dso

    dso_dir = _existing_dir(args.dso_dir)
    if args.term_months is not None and not 1 <= args.term_months <= 120:
        raise DsoError("--term-months must be between 1 and 120")
    if args.notebook is not None:
        nb_out = Path(args.notebook)
        if nb_out.suffix.lower() != ".ipynb" or not nb_out.parent.is_dir():
            raise DsoError(
                f"{args.notebook}: --notebook names an .ipynb file in an existing folder"
            )
    params = _params(args, dso_dir)
    ds = load_dso(dso_dir, params=params, use_cache=not args.no_cache)
    m = compute_metrics(ds, params)
    cmp, found = dso_scenarios(ds, m, args.scenarios, args.term_months, problems_in_notes=False)
    if args.format == "json":
        data = comparison_to_dict(cmp, m)
        data["scenarios_file"] = found.path
        data["problems"] = [p.to_dict() for p in found.problems]
        print(json.dumps(data, indent=2))
    else:
        print(format_comparison_table(cmp))
    for problem in found.problems:
        print(str(problem), file=sys.stderr)
    if args.notebook:
        rendered = _scenarios_notebook(args, dso_dir, params, ds, m, cmp, found)
        if not rendered:
            return 1
    return 0 if found.ok and cmp.ok else 1


def _scenarios_notebook(
    args: argparse.Namespace, dso_dir: Path, params: Any, ds: Any, m: Any, cmp: Any, found: Any
) -> bool:
    """Render the negotiation scenarios notebook on the comparison just printed (one figure)."""
    from dataclasses import replace

    from dso_analytics.stages import (
        Prepared,
        StageFailed,
        ValidationSummary,
        render_scenarios_notebook,
    )

    # the notebook lists the file's problems (the CLI printed them on stderr)
    shown = replace(cmp, notes=[*cmp.notes, *(str(p) for p in found.problems)])
    prepared = Prepared(
        dso=dso_dir.resolve().name, dso_dir=dso_dir.resolve(), params=params, metrics=m,
        validation=ValidationSummary(ok=True, errors=0, warnings=0), sources=(),
        scenarios=shown,
    )  # fmt: skip
    try:
        ipynb, html = render_scenarios_notebook(
            prepared, args.notebook, scenarios_file=args.scenarios,
            term_months=args.term_months, dataset=ds,
        )  # fmt: skip
    except StageFailed as exc:
        kept = f" (kept {exc.failed_notebook})" if exc.failed_notebook else ""
        print(f"{args.notebook}: {exc.stage} failed: {exc.error}{kept}", file=sys.stderr)
        return False
    print(f"wrote {ipynb}\nwrote {html}", file=sys.stderr)
    return True


def _cmd_sample(args: argparse.Namespace) -> int:
    from dso_analytics.sample import write_sample_portfolio, write_scaled_dso

    out = Path(args.out)
    if args.locations:
        path = write_scaled_dso(
            out,
            locations=args.locations,
            months=args.months,
            seed=args.seed,
            file_format=args.file_format,
            force=args.force,
        )
        print(f"wrote {path}")
    else:
        paths = write_sample_portfolio(out, seed=args.seed, force=args.force)
        for p in paths:
            print(f"wrote {p}")
    return 0


def _cmd_profiles(args: argparse.Namespace) -> int:
    from dso_analytics.ingest.profiles import format_profiles, list_profiles

    dso = _existing_dir(args.dso) if args.dso else None
    if args.save:
        from dso_analytics.ingest.profiles import save_profile

        name, file = args.save
        if not Path(file).is_file():
            raise DsoError(f"{file}: no such file")
        written, text = save_profile(name, Path(file), dso)
        print(f"wrote {written}" if written else text, end="\n" if written else "")
        return 0
    print(format_profiles(list_profiles(dso)))
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from dso_analytics.ingest.profiles import import_export

    dso = _existing_dir(args.dso)
    src = Path(args.file)
    if not src.is_file():
        raise DsoError(f"{args.file}: no such file")
    written = import_export(
        src, dso, profile=args.profile, force=args.force, location=args.location
    )
    print(f"wrote {written}")
    return 0


def _cmd_extract(args: argparse.Namespace) -> int:
    from dso_analytics.extract.command import run

    return run(args)


def _cmd_calendar(args: argparse.Namespace) -> int:
    from dso_analytics.actions.calendar import parse_remind
    from dso_analytics.actions.render import (
        calendar_summary,
        load,
        render_calendar,
        stale_as_of_note,
    )

    try:
        remind = parse_remind(args.remind)
    except ValueError as exc:
        raise DsoError(str(exc)) from None
    dirs = _portfolio_dirs(args.all) if args.all else [_existing_dir(args.dso_dir)]
    loaded = [load(d, _params(args, d), use_cache=not args.no_cache) for d in dirs]
    if args.out:
        out = Path(args.out)
    else:
        out = Path("reports") / ("portfolio" if args.all else dirs[0].name) / CALENDAR_FILE
    name = "Renewal deadlines: " + (
        "portfolio" if args.all else (loaded[0].m.display_name if loaded else "")
    )
    path, dl = render_calendar(loaded, out, remind=remind, name=name)
    print(f"wrote {path} ({calendar_summary(dl)})")
    note = stale_as_of_note(loaded)
    if note:
        print(note)
    return 0


def _cmd_letters(args: argparse.Namespace) -> int:
    from dso_analytics.actions.render import load, render_letters, stale_as_of_note

    if args.horizon < 0:
        raise DsoError("--horizon: must be 0 or more days")
    d = _existing_dir(args.dso_dir)
    x = load(d, _params(args, d), use_cache=not args.no_cache)
    out = Path(args.out) if args.out else Path("reports") / d.name / LETTERS_DIR
    paths = render_letters(x, out, horizon_days=args.horizon)
    for p in paths:
        print(f"wrote {p}")
    if not paths:
        print(
            f"no letter: nothing to claim and no notice deadline within {args.horizon} days "
            f"of {x.m.as_of.date()}"
        )
    note = stale_as_of_note([x])
    if note:
        print(note)
    return 0


def _cmd_log(args: argparse.Namespace) -> int:
    from dso_analytics.actions import negotiation as N
    from dso_analytics.actions.render import load

    d = _existing_dir(args.dso_dir)
    x = load(d, _params(args, d), use_cache=not args.no_cache)
    asks = N.current_asks(x.m)
    if args.action == "init":
        path = N.write_new_log(d, asks)
        print(f"wrote {path} ({plural(len(asks), 'ask')}, status open)")
        return 0
    if args.action == "sync":
        path, new = N.sync_log(d, asks)
        print(
            f"appended {plural(len(new), 'new ask')} to {path}"
            if len(new)
            else f"{path}: no new ask"
        )
    log = N.read_log(d)
    if log.path is None:
        raise DsoError(f"{d / N.LOG_FILE}: no negotiation log (`dso-analytics log init`)")
    problems = N.validate_log(log, asks)
    errors = [p for p in problems if p.severity == "error"]
    if problems:
        print(f"{plural(len(errors), 'error')}, "
              f"{plural(len(problems) - len(errors), 'warning')} in {log.path}:")  # fmt: skip
        for p in problems:
            print(f"{'warning: ' if p.severity == 'warning' else ''}{p}")
    elif args.action == "check":
        print(f"{log.path}: {plural(len(log.frame), 'row')}, no problem")
    return 1 if errors else 0


_COMMANDS = {
    "validate": _cmd_validate,
    "metrics": _cmd_metrics,
    "report": _cmd_report,
    "scenarios": _cmd_scenarios,
    "sample": _cmd_sample,
    "profiles": _cmd_profiles,
    "import": _cmd_import,
    "extract": _cmd_extract,
    "calendar": _cmd_calendar,
    "letters": _cmd_letters,
    "log": _cmd_log,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when the input has problems, 2 on usage or file errors.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        _overrides(args)  # a bad parameter is one line and exit 2, before any work
        return _COMMANDS[args.command](args)
    except ValidationFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except DsoError as exc:
        print(f"error: {printable(exc)}", file=sys.stderr)
        return exc.exit_code if exc.exit_code != 1 else 2
    except MemoryError:
        print(
            f"error: not enough memory to run {args.command} (close other programs or give "
            "fewer DSOs at once)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
