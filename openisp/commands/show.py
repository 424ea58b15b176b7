"""``openisp show SCENARIO -o FILE.png``: a picture of the topology."""
from __future__ import annotations

import os
from pathlib import Path

from openisp.cli import CommandError
from topologies.loader import load_scenario

HELP = "draw a scenario's topology (PNG, SVG, PDF, ...), coloured by provider, with link ids and capacities"


def add_arguments(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.png",
                        help="where to write; the suffix picks the format (png, svg, pdf, ...)")


def check_output(path: str, formats: set[str] | None = None, verb: str = "draw to") -> None:
    """Refuse, before any work, a place we cannot write to, or (given ``formats``) a suffix we cannot write."""
    out = Path(path)
    suffix = out.suffix[1:].lower()
    if formats is not None and suffix not in formats:
        raise CommandError(f"cannot {verb} {path!r}: the suffix must be one of {', '.join(sorted(formats))}")
    if out.is_dir():
        raise CommandError(f"cannot {verb} {path!r}: it is a directory")
    parent = out.parent
    if not parent.is_dir():
        raise CommandError(f"cannot {verb} {path!r}: no directory {str(parent)!r}")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise CommandError(f"cannot {verb} {path!r}: not writable")


def run(args) -> int:
    from topologies.draw import draw_scenario, supported_formats

    check_output(args.output, supported_formats())
    scenario = load_scenario(args.scenario)
    try:
        draw_scenario(scenario, args.output)
    except OSError as exc:
        raise CommandError(f"cannot write {args.output!r}: {exc.strerror or exc}") from None
    except (RuntimeError, ValueError) as exc:  # a format this matplotlib lists but cannot write here
        raise CommandError(f"cannot write {args.output!r}: {exc}") from None
    print(f"{args.output}: {scenario.name} drawn")
    return 0
