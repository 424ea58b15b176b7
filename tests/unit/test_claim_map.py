"""docs/testing.md maps each number of README.md and docs/ to the test behind it, by
line: when a file grows, the map must follow it.  Every number a claim quotes must be
on the lines the map gives for it."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
MAP = ROOT / "docs" / "testing.md"
LINES = re.compile(r"^\d+(-\d+)?(, \d+(-\d+)?)*$")


def rows():
    """(file, line ranges, claim) for every row of the per-file claim tables."""
    current = None
    for line in MAP.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            name = line[3:].strip()
            current = name if name.endswith(".md") and (ROOT / name).is_file() else None
            continue
        if current is None or not line.startswith("| "):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) >= 2 and LINES.match(cells[0]):
            ranges = [tuple(int(n) for n in part.split("-")) for part in cells[0].split(", ")]
            yield current, [(r[0], r[-1]) for r in ranges], cells[1]


def test_every_number_of_a_claim_is_on_its_lines():
    checked, wrong, texts = 0, [], {}
    for name, ranges, claim in rows():
        if name not in texts:
            texts[name] = (ROOT / name).read_text(encoding="utf-8").splitlines()
        text = texts[name]
        body = " ".join(text[n - 1] for a, b in ranges for n in range(a, b + 1) if 0 < n <= len(text))
        missing = [n for n in re.findall(r"\d+(?:[.,]\d+)*", claim) if n not in body]
        checked += 1
        if missing:
            wrong.append(f"{name}:{ranges}: {claim[:60]!r} not there: {missing}")
    assert checked > 100
    assert not wrong, "\n".join(wrong)
