"""Fault injection (issue 15): hostile values, giant sheets, corrupt snapshots, linked folders.

Every case is built inside the test from a copy of the sample data and run through the CLI
in a child process bounded in address space and CPU time (``resource`` limits, no network).
Each asserts the exit code, the one located line, that no wrong figure is printed or
cached, and that outputs are complete or absent.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from dso_analytics import snapshot
from dso_analytics.errors import InputFileError, MoneyRangeError, Problem, printable
from dso_analytics.folders import walk_files
from dso_analytics.ingest import read_dso
from dso_analytics.ingest.dso import _billing_job as _REAL
from dso_analytics.money import to_cents
from tests.support.paths import SAMPLE

DSO = "bright-smiles"
MB = 1024**2

# Runs several CLI commands in ONE bounded child (one import of pandas/GX for all of them).
_RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, resource, sys
    mem, cpu = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    from dso_analytics.cli import main
    out = []
    for argv in json.loads(sys.argv[3]):
        o, e = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            rc = main(argv)
        out.append({"rc": rc, "out": o.getvalue(), "err": e.getvalue()})
    print(json.dumps(out))
    """
)


def run_cli(*commands: list[str], mem_mb: int = 2500, cpu_s: int = 240, env=None) -> list[dict]:
    """Run CLI commands in a child limited to ``mem_mb`` of address space and ``cpu_s``."""
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(mem_mb * MB), str(cpu_s), json.dumps(commands)],
        capture_output=True,
        text=True,
        timeout=cpu_s * 3,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr == "", proc.stderr  # nothing leaks around the CLI (numpy warnings...)
    return json.loads(proc.stdout)


def small_dso(tmp_path: Path, billing=("LOC-001.xlsx", "LOC-002.xlsx")) -> Path:
    """A copy of the bright-smiles sample with two of its billing files."""
    src = SAMPLE / DSO
    d = tmp_path / "portfolio" / DSO
    (d / "billing").mkdir(parents=True)
    for name in ("locations.xlsx", "agreements.xlsx", "dso.yaml"):
        shutil.copy(src / name, d / name)
    for name in billing:
        shutil.copy(src / "billing" / name, d / "billing" / name)
    return d


def _true_total(d: Path) -> float:
    """Sum of the sample amounts, read independently (pandas + calamine, no package code)."""
    total = 0
    for f in sorted((d / "billing").glob("*.xlsx")):
        amounts = pd.read_excel(f, engine="calamine")["amount"]
        total += int(round(amounts * 100).sum())
    return total / 100


# ---------------------------------------------------------------------------
# 1. money overflow
# ---------------------------------------------------------------------------
def _set_xlsx_cells(path: Path, cells: dict[tuple[int, int], float]) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    for (r, c), v in cells.items():
        wb.active.cell(row=r, column=c).value = v
    wb.save(path)


def test_money_over_the_line_bound_is_a_located_error_and_no_total_is_shown(tmp_path):
    d = small_dso(tmp_path)
    (d / "billing" / "LOC-003.csv").write_text(
        "invoice_number,invoice_date,description,amount\n"
        "99001,2024-05-31,Courier fee,100000000000000000000\n"
        "99002,2024-05-31,Courier fee,92233720368547758.07\n"
        "99003,2024-05-31,Courier fee,1" + "0" * 308 + "\n",
        encoding="utf-8",
    )
    _set_xlsx_cells(d / "billing" / "LOC-002.xlsx", {(3, 8): 1e308, (4, 8): 1e17})
    cache = tmp_path / "cache"
    validate, metrics = run_cli(
        ["validate", str(d)], ["metrics", str(d)], env={"DSO_ANALYTICS_CACHE": str(cache)}
    )
    assert validate["rc"] == 1 and metrics["rc"] == 1
    lines = validate["out"].splitlines()
    assert lines[0] == f"5 problems in {d}:"
    limit = "amount: is beyond the per-line limit of 100,000,000 (max_line_amount in the standard)"
    assert lines[1:] == [
        f"billing/LOC-002.xlsx, sheet billing, row 3, {limit} ('1e+308')",
        f"billing/LOC-002.xlsx, sheet billing, row 4, {limit} ('1e+17')",
        f"billing/LOC-003.csv, row 2, {limit} ('1e+20')",
        f"billing/LOC-003.csv, row 3, {limit} ('9.22337e+16')",
        f"billing/LOC-003.csv, row 4, {limit} ('1e+308')",
    ]
    assert "total billed" not in validate["out"] + metrics["out"] + metrics["err"]
    assert metrics["out"] == "" and "per-line limit" in metrics["err"]
    assert "overflow" not in validate["err"] + metrics["err"]
    assert not list(cache.rglob("*.parquet"))  # nothing that failed validation is cached


def test_the_line_bound_is_configurable_and_cent_sums_are_checked(tmp_path):
    from dso_analytics.standards import read_standard

    d = small_dso(tmp_path)
    (d / "standard.yaml").write_text("parameters:\n  max_line_amount: 1000\n", encoding="utf-8")
    assert read_standard(dso_dir=d).max_line_amount == 1000.0
    # sums of bounded lines cannot wrap; beyond exact float cents or a wrapping sum: refused
    assert to_cents(pd.Series([100_000_000.0] * 3, dtype="float64")).sum() == 3 * 10**10
    with pytest.raises(MoneyRangeError):
        to_cents(pd.Series([1e17]))
    with pytest.raises(MoneyRangeError, match="overflow"):
        to_cents(pd.Series([9e13] * 2000))


# ---------------------------------------------------------------------------
# 2. snapshot integrity
# ---------------------------------------------------------------------------
def test_a_corrupt_or_replaced_snapshot_is_discarded_and_revalidated(tmp_path, monkeypatch):
    from dso_analytics.validation import validate_dso

    monkeypatch.setenv("DSO_ANALYTICS_CACHE", str(tmp_path / "cache"))
    d = small_dso(tmp_path)
    truth = _true_total(d)  # 185,712.20 for LOC-001 + LOC-002
    assert truth == 185712.20
    first = validate_dso(d)
    assert first.summary()["total_billed"] == truth
    (snap,) = (tmp_path / "cache").glob(f"{DSO}/*")
    manifest = json.loads((snap / "manifest.json").read_text())
    assert set(manifest["sha256"]) == {
        "locations.parquet", "agreements.parquet", "services.parquet",
        "documentation.parquet", "billing.parquet", "meta.json", "validation.json",
    }  # fmt: skip
    parquet = snap / "billing.parquet"
    good = parquet.read_bytes()

    # a valid Parquet file with one amount +100,000 (what a careless edit would leave)
    frame = pd.read_parquet(parquet)
    frame.loc[0, "amount"] += 100_000
    frame.to_parquet(parquet, index=False)
    again = validate_dso(d)
    assert again.summary()["total_billed"] == truth
    (warn,) = [p for p in again.problems if p.rule == "snapshot_discarded"]
    assert "billing.parquet does not match its recorded digest" in str(warn)
    assert warn.severity == "warning" and again.ok

    # every single-byte flip of a stretch of the file is caught (never served)
    for pos in range(0, len(good), max(1, len(good) // 40)):
        bad = bytearray(good)
        bad[pos] ^= 0x01
        (snap,) = (tmp_path / "cache").glob(f"{DSO}/*")
        (snap / "billing.parquet").write_bytes(bytes(bad))
        with pytest.raises(snapshot.SnapshotCorrupt):
            snapshot.read_snapshot_dir(snap)
    # the rewritten snapshot after the revalidation verifies, and serves the true total
    shutil.rmtree(snap)
    validate_dso(d)
    (snap,) = (tmp_path / "cache").glob(f"{DSO}/*")
    snapshot.verify_snapshot(snap)
    assert validate_dso(d).summary()["total_billed"] == truth
    (snap / "meta.json").write_text((snap / "meta.json").read_text().replace("USD", "EUR"))
    served = validate_dso(d)
    assert served.dataset.currency == "USD"
    assert [p.rule for p in served.problems] == ["snapshot_discarded"]


# ---------------------------------------------------------------------------
# 3. symlinked folders: one rule for the snapshot key and ingest
# ---------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_linked_billing_folder_and_sub_folder_are_refused_by_key_and_ingest(tmp_path):
    d = small_dso(tmp_path)
    outside = tmp_path / "outside"
    (outside / "2024").mkdir(parents=True)
    shutil.copy(d / "billing" / "LOC-002.xlsx", outside / "2024" / "LOC-003.xlsx")
    (d / "billing" / "2024").symlink_to(outside / "2024", target_is_directory=True)
    for call in (lambda: snapshot.compute_fingerprint(d), lambda: read_dso(d)):
        with pytest.raises(InputFileError, match=r"^billing/2024: is a link to a folder"):
            call()
    (d / "billing" / "2024").unlink()
    moved = tmp_path / "elsewhere-billing"
    shutil.move(d / "billing", moved)
    (d / "billing").symlink_to(moved, target_is_directory=True)
    (res,) = run_cli(["validate", str(d)])
    assert res["rc"] == 2 and res["out"] == ""
    assert res["err"] == (
        "error: billing: is a link to a folder: refused (linked folders are not read; put the "
        "files themselves in the DSO folder)\n"
    )
    # a hidden folder is skipped by both (as before); a plain sub-folder is read by both
    (d / "billing").unlink()
    shutil.move(moved, d / "billing")
    (d / "billing" / "sub").mkdir()
    shutil.move(d / "billing" / "LOC-002.xlsx", d / "billing" / "sub" / "LOC-002.xlsx")
    rels = [p.relative_to(d).as_posix() for p in walk_files(d, "billing")]
    assert rels == ["billing/LOC-001.xlsx", "billing/sub/LOC-002.xlsx"]
    assert len(read_dso(d).billing) == 275  # 137 + 138 lines, nothing skipped


# ---------------------------------------------------------------------------
# 4. a giant sheet dimension / used range; 5. a wide CSV
# ---------------------------------------------------------------------------
def _edit_sheet(path: Path, edit) -> None:
    data = path.read_bytes()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = edit(body.decode()).encode()
            z.writestr(info, body)
    path.write_bytes(out.getvalue())


def test_giant_sheet_extent_and_wide_csv_are_refused_before_allocating(tmp_path):
    import re

    base = small_dso(tmp_path, billing=("LOC-001.xlsx",))

    def variant(name: str, edit=None, csv_text: str | None = None) -> Path:
        v = tmp_path / name / DSO
        shutil.copytree(base, v)
        if csv_text is not None:
            (v / "billing" / "LOC-002.csv").write_text(csv_text, encoding="utf-8")
        else:
            shutil.copy(SAMPLE / DSO / "billing" / "LOC-002.xlsx", v / "billing" / "LOC-002.xlsx")
            _edit_sheet(v / "billing" / "LOC-002.xlsx", edit)
        return v

    far_cell = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    d = variant("far", lambda t: t.replace("</sheetData>", far_cell))
    assert (d / "billing" / "LOC-002.xlsx").stat().st_size < 20_000
    dim = variant("dim", lambda t: re.sub(
        r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', t))  # fmt: skip
    norefs = variant("norefs", lambda t: t.replace(
        "</sheetData>", '<row r="1048576">' + "<c><v>1</v></c>" * 40 + "</row></sheetData>"))  # fmt: skip
    head = "invoice_number,invoice_date,description,amount\n1,2024-01-31,"
    wide = variant("wide", csv_text=head + "x,1\n" + "," * 20_000_000)
    longf = variant("long", csv_text=head + "x" * 40_000 + ",1\n")
    results = run_cli(
        *[["validate", str(p)] for p in (d, dim, norefs, wide, longf)], mem_mb=3000, cpu_s=120
    )
    lim = "limit 33,554,432 cells): refused\n"
    assert [(r["rc"], r["out"], r["err"]) for r in results] == [
        (2, "", "error: billing/LOC-002.xlsx: sheet billing has cells as far as XFD1048576 "
                f"(16,384 columns x 1,048,576 rows; {lim}"),
        (2, "", "error: billing/LOC-002.xlsx: sheet billing declares a used range up to "
                f"XFD1048576 (16,384 columns x 1,048,576 rows; {lim}"),
        (2, "", "error: billing/LOC-002.xlsx: sheet billing has cells as far as AN1048576 "
                f"(40 columns x 1,048,576 rows; {lim}"),
        (2, "", "error: billing/LOC-002.csv: line 3 has more than 16,384 columns (Excel's column "
                "limit): refused\n"),
        (2, "", "error: billing/LOC-002.csv: row 2 has a field longer than 32,767 characters "
                "(Excel's cell limit): refused\n"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------
# 9. the offline check reads elements and attributes, not escaped text
# ---------------------------------------------------------------------------
def test_a_url_in_an_invoice_description_does_not_block_the_html(tmp_path):
    import nbformat

    from dso_analytics.reporting.html import check_offline, export_html
    from dso_analytics.reporting.notebook import table_html

    text = "Courier fee (tracking data=https://track.example/123) src=//x href='http://y'"
    frame = pd.DataFrame({"description": [text], "amount": [25.0]})
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("display_data", {"text/html": table_html(frame, money=["amount"])})
    ]
    nb.cells = [cell]
    out = export_html(nb, tmp_path / "r.html", title="t")
    html = out.read_text(encoding="utf-8")
    assert "track.example/123" in html and check_offline(html) == []
    # a real remote element is still refused, each problem named once
    bad = html.replace("</body>", '<img src="https://x/a.png"><img src="//y/b.png"></body>')
    assert check_offline(bad) == ["remote src/href reference"]


# ---------------------------------------------------------------------------
# 10. control characters never reach a message raw; 11. a line repeated inside one file
# ---------------------------------------------------------------------------
def test_control_characters_are_escaped_in_every_message(tmp_path):
    d = small_dso(tmp_path, billing=("LOC-001.xlsx",))
    forged = "x\nall checks passed, 0 problems\x1b[2J\r"
    (d / "billing" / "LOC-002.csv").write_text(
        "invoice_number,invoice_date,description,amount\n"
        f'"1{forged}",2024-01-31,"Helpdesk{forged}","not money{forged[1:12]}"\n',
        encoding="utf-8",
    )
    (d / "billing" / f"LOC-003{forged[:2]}.csv").write_bytes(b"")
    validate, metrics = run_cli(["validate", str(d)], ["metrics", str(d)])
    for r in (validate, metrics):
        text = r["out"] + r["err"]
        assert "\x1b" not in text and "\r" not in text
        assert not any(line.startswith("all checks passed") for line in text.splitlines())
    assert validate["rc"] == 2 and metrics["rc"] == 2
    assert validate["err"] == "error: billing/LOC-003x\\n.csv: is empty (0 bytes)\n"
    (d / "billing" / f"LOC-003{forged[:2]}.csv").unlink()
    (res,) = run_cli(["validate", str(d)])
    assert res["rc"] == 1
    (line,) = [ln for ln in res["out"].splitlines() if "could not be read as money" in ln]
    assert line == (
        "billing/LOC-002.csv, row 2, amount: could not be read as money ('not money\\nall checks')"
    )
    assert printable(Problem("f\n", "p\x1b", value="v\n")) == "f\\n: p\\x1b ('v\\n')"


def test_a_line_repeated_inside_one_file_is_a_warning_naming_both_rows(tmp_path):
    d = small_dso(tmp_path, billing=("LOC-001.xlsx",))
    line = "99001,2026-10-31,Courier fee (tracking data=https://track.example/123),25.00\n"
    (d / "billing" / "LOC-002.csv").write_text(
        "invoice_number,invoice_date,description,amount\n" + line + line, encoding="utf-8"
    )
    ds = read_dso(d)
    (warn,) = [p for p in ds.read_problems if p.rule == "duplicate_in_file"]
    assert str(warn).startswith(
        "billing/LOC-002.csv, row 3: same invoice line as row 2 of this file (invoice 99001, "
        "amount 25.00): both are counted"
    )
    assert warn.severity == "warning"
    assert (ds.billing["source_file"] == "billing/LOC-002.csv").sum() == 2


# ---------------------------------------------------------------------------
# 4. a reader process that dies fails only its file, named; 7. workers die with their parent
# ---------------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    """Child processes of ``pid``, except multiprocessing's resource tracker (one per
    parent, it lives as long as the parent does and exits with it)."""
    kids = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            kids |= {int(x) for x in (task / "children").read_text().split()}
    out = set()
    for k in kids:
        with contextlib.suppress(OSError):
            if b"resource_tracker" not in Path(f"/proc/{k}/cmdline").read_bytes():
                out.add(k)
    return out


def _crash_on_loc002(args):
    """A billing reader that dies like an aborting parser on LOC-002 (runs in the forked reader)."""
    if any("LOC-002" in rel for _, rel in args[0]):
        os._exit(134)
    return _REAL(args)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_a_crashing_billing_reader_names_its_file_and_leaves_no_process(tmp_path, monkeypatch):
    from dso_analytics.ingest import dso as ingest_dso

    d = small_dso(tmp_path)
    monkeypatch.setattr(ingest_dso, "_billing_job", _crash_on_loc002)
    monkeypatch.setenv("DSO_ANALYTICS_INGEST_WORKERS", "2")
    with pytest.raises(InputFileError) as err:
        read_dso(d)
    assert str(err.value) == (
        "billing/LOC-002.xlsx: crashed the process reading it (a damaged or hostile file): refused"
    )
    assert not _children(os.getpid())  # every reader process is gone


_ORPHAN = textwrap.dedent(
    """
    import os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from dso_analytics.runguard import die_with_parent
    pool = ProcessPoolExecutor(1, initializer=die_with_parent, initargs=(os.getpid(),))
    print(pool.submit(os.getpid).result(), flush=True)
    pool.submit(time.sleep, 60)
    time.sleep(60)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_a_worker_dies_with_its_killed_parent():
    import signal
    import time

    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        os.kill(worker, 0)  # alive while its parent is
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(worker, signal.SIGKILL)
            pytest.fail("the worker outlived its killed parent")
    finally:
        parent.kill()


# ---------------------------------------------------------------------------
# 6. --out at an existing file; 8. one run per output folder; 7. outputs published as one unit
# ---------------------------------------------------------------------------
def test_out_pointing_at_a_file_is_one_line_exit_2(tmp_path):
    f = tmp_path / "reports.txt"
    f.write_text("keep me", encoding="utf-8")
    (res, under) = run_cli(
        ["report", str(SAMPLE / DSO), "--out", str(f)],
        ["report", str(SAMPLE / DSO), "--out", str(f / "sub")],
    )
    assert (res["rc"], res["out"], res["err"]) == (
        2, "", f"error: --out {f}: is a file, not a folder\n")  # fmt: skip
    assert (under["rc"], under["err"]) == (
        2, f"error: --out {f / 'sub'}: cannot be created (Not a directory)\n")  # fmt: skip
    assert f.read_text(encoding="utf-8") == "keep me"


def test_a_second_run_on_the_same_output_folder_is_refused_naming_the_holder(tmp_path):
    from dso_analytics.runguard import OutputBusy, OutputLock

    out = tmp_path / "out"
    out.mkdir()
    with OutputLock(out, "run-a"):
        with pytest.raises(OutputBusy) as err:
            OutputLock(out, "run-b").acquire()
        msg = str(err.value)
        assert msg.startswith(
            f"{out}: another report run is writing here (run run-a, pid {os.getpid()}"
        )
        assert msg.endswith("; wait for it to finish or give another --out")
        assert err.value.exit_code == 2
    with OutputLock(out, "run-b"):  # released: the next run goes ahead
        pass
    assert list(out.iterdir()) == []  # the lock leaves nothing in the folder


def test_publishing_swaps_the_whole_set_and_keeps_what_other_commands_wrote(tmp_path):
    from dso_analytics.runguard import publish_folder, remove_stale_staging, staging_root

    out = tmp_path / "out"
    final = out / DSO
    (final / "letters").mkdir(parents=True)
    (final / "letters" / "claim.docx").write_text("letter", encoding="utf-8")
    for name in ("renewal-leverage.html", "renewal-leverage.xlsx", "renewal-leverage.ipynb"):
        (final / name).write_text("old", encoding="utf-8")
    (final / "renewal-leverage.failed.ipynb").write_text("old failure", encoding="utf-8")
    inode = final.stat().st_ino
    staged = staging_root(out, "run-1") / DSO
    staged.mkdir()
    for name in ("renewal-leverage.html", "renewal-leverage.xlsx", "renewal-leverage.ipynb"):
        (staged / name).write_text("new", encoding="utf-8")
    owned = ["renewal-leverage." + s for s in ("html", "xlsx", "ipynb", "failed.ipynb")]
    publish_folder(staged, final, owned)
    assert final.stat().st_ino != inode  # a new folder, swapped in as one unit
    assert sorted(p.name for p in final.iterdir()) == [
        "letters", "renewal-leverage.html", "renewal-leverage.ipynb", "renewal-leverage.xlsx"
    ]  # fmt: skip
    assert {(final / n).read_text() for n in owned[:3]} == {"new"}
    assert (final / "letters" / "claim.docx").read_text() == "letter"
    remove_stale_staging(out)
    assert sorted(p.name for p in out.iterdir()) == [DSO]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_a_worker_death_fails_only_its_job_and_the_pool_is_rebuilt():
    import multiprocessing
    import time

    from dso_analytics.runguard import HealingPool, WorkerCrashed

    with HealingPool(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        slow = pool.submit(time.sleep, 1.0)  # in flight when its neighbour dies
        crash = pool.submit(os._exit, 134)
        with pytest.raises(WorkerCrashed, match="worker process running it died"):
            crash.result(timeout=60)
        assert slow.result(timeout=60) is None  # run again alone: it finishes
        assert pool.submit(pow, 2, 10).result(timeout=60) == 1024  # the rebuilt pool works
        assert pool.rebuilds == 1
    deadline = time.monotonic() + 10
    while _children(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _children(os.getpid())  # no worker left behind


def _descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        kids = _children(todo.pop())
        todo += list(kids - out)
        out |= kids
    return out


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_killed_run_leaves_no_process_and_a_second_run_is_refused_meanwhile(tmp_path):
    import signal
    import time

    from dso_analytics.runguard import OutputLock

    d = small_dso(tmp_path, billing=("LOC-001.xlsx",))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dso_analytics", "report", str(d), "--out", str(out)]
    run_a = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        kernel = None
        while kernel is None and time.monotonic() < deadline and run_a.poll() is None:
            kernel = next((p for p in _descendants(run_a.pid) if "ipykernel" in _cmdline(p)), None)
            time.sleep(0.1)
        assert kernel is not None, "the run never started a report kernel"
        # meanwhile, a second run into the same folder is refused, naming the first
        (second,) = run_cli(["report", str(d), "--out", str(out)])
        assert second["rc"] == 2 and second["out"] == ""
        assert second["err"].startswith(f"error: {out}: another report run is writing here (run ")
        assert f"pid {run_a.pid} on " in second["err"]
        family = _descendants(run_a.pid)
        assert len(family) >= 2  # a worker and its kernel (at least)
        run_a.send_signal(signal.SIGKILL)
        run_a.wait(10)
        deadline = time.monotonic() + 20
        while (alive := {p for p in family if _running(p)}) and (time.monotonic() < deadline):
            time.sleep(0.1)
        assert not alive, [_cmdline(p) for p in alive]  # workers and kernels died with it
    finally:
        run_a.kill()
    with OutputLock(out, "after"):  # the killed run's lock went with it
        pass
    folder = out / DSO
    names = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    if names:  # the killed run had published: its whole dated set with its aliases
        import re

        from dso_analytics.report_names import dso_report_names

        as_of = re.search(r"\d{4}-\d\d-\d\d", names[0]).group(0)
        set_ = dso_report_names(DSO, as_of)
        assert names == sorted([*set_.dated.values(), *set_.alias.values()])
