"""``openisp ledger verify DB`` and ``openisp ledger invoices DB``: check the hash chain, print invoices.

``verify`` walks the chain and names every row that was edited, removed or
moved; it exits 1 when it finds any.  ``invoices`` prints each participant's
settlement per epoch, with the demands and links behind it.
"""
from __future__ import annotations

import json
import sys

HELP = "check a ledger's hash chain (verify) or print its invoices (invoices)"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="check every row of the chain; exit 1 naming each broken one")
    verify.add_argument("db", metavar="DB", help="the ledger file (ledger.sqlite in a run directory)")
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    invoices = sub.add_parser("invoices", help="print invoices, per epoch and participant")
    invoices.add_argument("db", metavar="DB")
    invoices.add_argument("--participant", metavar="NAME", help="only this participant's invoices")
    invoices.add_argument("--epoch", type=int, metavar="N", help="only this epoch")
    invoices.add_argument("--json", action="store_true", help="print a JSON list")


def run(args) -> int:
    return _verify(args) if args.action == "verify" else _invoices(args)


def _verify(args) -> int:
    from controller.ledger import verify

    found = verify(args.db)
    if args.json:
        print(json.dumps({"db": args.db, "ok": found.ok, "rows": found.rows, "epochs": found.epochs,
                          "head": found.head, "problems": found.problems}, indent=2))
        return 0 if found.ok else 1
    for problem in found.problems:
        print(f"{args.db}: {problem}", file=sys.stderr)
    span = f"epochs {found.epochs[0]}-{found.epochs[-1]}" if found.epochs else "no epoch"
    if found.ok:
        print(f"{args.db}: ok: {found.rows} rows, {span} ({len(found.epochs)} settled), head {found.head}")
        return 0
    print(f"{args.db}: BROKEN: {len(found.problems)} problem{'s' * (len(found.problems) != 1)} in {found.rows} rows",
          file=sys.stderr)
    return 1


def _invoices(args) -> int:
    import os

    from controller.ledger import Ledger
    from openisp.cli import CommandError

    if not os.path.isfile(args.db):
        raise CommandError(f"no ledger at {args.db}")
    with Ledger(args.db, readonly=True) as ledger:
        invoices = ledger.invoices(participant=args.participant, epoch=args.epoch)
    if args.json:
        print(json.dumps([i.to_json_dict() for i in invoices], indent=2))
        return 0
    if not invoices:
        who = f" for {args.participant}" if args.participant else ""
        print(f"{args.db}: no invoices{who}")
        return 0
    for invoice in invoices:
        print(f"epoch {invoice.epoch}  {invoice.participant} ({invoice.role})  pays {invoice.pays}  "
              f"receives {invoice.receives}  net {invoice.net}")
        for d in invoice.demands:
            print(f"  demand {d['id']}: {d['src']} -> {d['dst']}, {d['allocated_kbps']} kbps, pays {d['pays']}")
        for l in invoice.links:
            print(f"  link {l['id']}: {l['allocated_kbps']} kbps at {l['price_per_mbps']} per Mbps")
        for u in invoice.usage:
            print(f"  usage {u['id']}: measured {u['measured_kbps']} kbps of {u['allocated_kbps']} allocated")
    return 0
