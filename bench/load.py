"""Load the benchmarks' OpenMetrics results into a Prometheus database, every run at its own time.

    .venv/bin/python bench/load.py [--out bench/out/prometheus] [FILE.om ...]

With no files, every ``bench/out/results-*.om``.  The database is rebuilt from
the files each time (``promtool tsdb create-blocks-from openmetrics``, one call
per file, into a fresh directory that then replaces ``--out``), so loading twice
never doubles a sample.  Then either

    .venv/bin/openisp report bench/out --dashboards benchmarks   # PNGs and report.html

or serve it to Grafana (grafana/README.md): the Benchmarks dashboard shows
every figure over the runs.  A Prometheus still serving ``--out`` is refused.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import OUT, read  # noqa: E402
from dataplane.report.database import serving  # noqa: E402

__all__ = ["load", "LoadError"]


class LoadError(RuntimeError):
    """The results could not be loaded; the message says which file or directory and why."""


def load(files: list[Path], out: Path) -> int:
    """Rebuild the database ``out`` from ``files``; the number of samples loaded."""
    if shutil.which("promtool") is None:
        raise LoadError("promtool is not installed: run `make setup` (Debian's prometheus package)")
    if not files:
        raise LoadError(f"no results to load: `make bench` writes them to {OUT}/results-*.om")
    out = Path(out)
    pid = serving(out)
    if pid is not None:
        raise LoadError(f"a Prometheus (pid {pid}) is serving {out}: stop it first")
    fresh = out.with_name(f"{out.name}.new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    samples = 0
    try:
        for f in files:
            try:
                n = len(read(f))
            except (OSError, ValueError) as exc:
                raise LoadError(f"{f}: not a results file: {exc}") from None
            done = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(f), str(fresh)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise LoadError(f"{f}: promtool refused it: {(done.stdout + done.stderr).strip()[-300:]}")
            samples += n
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    fresh.rename(out)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE.om")
    parser.add_argument("--out", type=Path, default=OUT / "prometheus", help="the database to (re)build")
    args = parser.parse_args(argv)
    files = args.files or sorted(OUT.glob("results-*.om"))
    try:
        samples = load(files, args.out)
    except LoadError as exc:
        print(f"bench/load.py: {exc}", file=sys.stderr)
        return 1
    print(f"loaded {len(files)} results file(s), {samples} samples, into {args.out}")
    print(f"  report: .venv/bin/openisp report {args.out.parent} --dashboards benchmarks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
