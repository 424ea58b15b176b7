"""``openisp generate``: write a parametric multi-provider world as a scenario file."""
from __future__ import annotations

import sys

from openisp.cli import CommandError

HELP = "generate a random multi-provider world (backbones, last miles, hosts, demands) as scenario YAML"


def add_arguments(parser) -> None:
    parser.add_argument("--backbones", type=int, default=2)
    parser.add_argument("--backbone-switches", type=int, default=4, help="switches per backbone")
    parser.add_argument("--last-miles", type=int, default=3)
    parser.add_argument("--last-mile-switches", type=int, default=1, help="switches per last mile")
    parser.add_argument("--hosts", type=int, default=3, help="hosts per last mile")
    parser.add_argument("--content", type=int, default=1, help="content providers")
    parser.add_argument("--direct", type=float, default=0.3, help="probability of a direct link between two last miles")
    parser.add_argument("--demands", type=int, default=10)
    parser.add_argument("--multihomed", type=int, default=0, metavar="N",
                        help="last-mile hosts that also attach to another last mile (the market picks the attachment)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name")
    parser.add_argument("--zoo", metavar="FILE.graphml",
                        help="use an Internet Topology Zoo GraphML file as the backbone "
                             "(with --last-miles, --hosts, --demands, --seed)")
    parser.add_argument("-o", "--output", metavar="FILE.yaml", help="write here (default: standard output)")


def run(args) -> int:
    from openisp.commands.show import check_output
    from topologies.generate import generate_world, import_zoo, to_yaml
    from topologies.language import SCENARIO_NAME
    from topologies.loader import load_scenario_text

    if args.output:
        check_output(args.output, verb="write")
    if args.name is not None:
        try:
            SCENARIO_NAME.parse(args.name)
        except ValueError as exc:
            raise CommandError(f"--name: {exc}") from None
    try:
        if args.zoo:
            data = import_zoo(args.zoo, last_miles=args.last_miles, hosts_per_last_mile=args.hosts,
                              demands=args.demands, seed=args.seed)
        else:
            data = generate_world(backbones=args.backbones, backbone_switches=args.backbone_switches,
                                  last_miles=args.last_miles, last_mile_switches=args.last_mile_switches,
                                  hosts_per_last_mile=args.hosts, content=args.content,
                                  direct_probability=args.direct, demands=args.demands, seed=args.seed,
                                  name=args.name, multihomed=args.multihomed)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    text = to_yaml(data)
    load_scenario_text(text, args.output or "<generated>")  # what we write must load
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise CommandError(f"cannot write {args.output!r}: {exc.strerror or exc}") from None
        print(f"{args.output}: {data['description']}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
