"""Any file, however broken: a scenario or a ScenarioError, never a traceback, in bounded time and memory.

The fuzzer mutates the library's files as text (lines dropped, doubled or
swapped; YAML's anchors, aliases, merge keys, tags, brackets and odd scalars
dropped in; cuts).  The bound is measured once, in a subprocess: CPU time with
``time.process_time`` and peak memory with ``tracemalloc``, per file.  The
structural guarantees behind it (the alias budget, the nesting depth, the size
limit) are asserted in ``test_yamlsource.py``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from openisp.cli import main
from topologies.errors import ScenarioError
from topologies.generate import generate_world, to_yaml
from topologies import loader
from topologies.loader import load_scenario_text

LIBRARY = {p: Path(p).read_text() for p in ["topologies/default.yaml",
                                             *sorted(str(p) for p in Path("topologies/library").glob("*.yaml"))]}
MALFORMED = sorted(str(p) for p in Path(__file__).parent.joinpath("malformed").glob("*.yaml"))
PROFILE = settings(max_examples=2000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 200, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOKENS = ["&a ", "*a", "<<: *a", "<<: ", "!tag ", "!!python/name:os.system ", "!!str ", "? ", "[", "]", "{", "}",
          ": ", "- ", "\t", "'", '"', "#", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "\x00", "\ufeff",
          "é", ".nan", ".inf", "-.inf", "1e30", "1.0e+999", "9" * 50, "~", "null", "yes", "<<", "&a [*a]", "=",
          "2001-01-01", "0x1F", "1_000", "0o17", "1:30", "\n", "  ", "|\n", ">\n", "Mbps", "kbps", "-1", "0"]


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(sorted(LIBRARY)))
    text = LIBRARY[text]
    for _ in range(draw(st.integers(1, 4))):
        lines = text.splitlines(keepends=True) or [""]
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["drop", "double", "swap", "insert", "replace", "cut"]))
        if how == "drop":
            del lines[i]
        elif how == "double":
            lines.insert(i, lines[i])
        elif how == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif how in ("insert", "replace"):
            line = lines[i]
            at = draw(st.integers(0, len(line)))
            token = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6)))
            end = at + (draw(st.integers(0, 8)) if how == "replace" else 0)
            lines[i] = line[:at] + token + line[end:]
        else:
            lines = lines[:i] + [lines[i][:draw(st.integers(0, len(lines[i])))]]
        text = "".join(lines)
    return text


@PROFILE
@given(mutated())
@example("\r# a lone carriage return: a line break to YAML, not to grep or sed\nname: abilene\nd")  # found by it
def test_a_mutated_library_file_gives_a_scenario_or_problems_with_lines(text):
    try:
        load_scenario_text(text, "fuzz.yaml")
    except ScenarioError as exc:
        count = text.count("\n") + 2
        assert exc.problems and all(p.message and p.file == "fuzz.yaml" for p in exc.problems)
        assert all(p.line is None or 1 <= p.line <= count for p in exc.problems)
        lines = [p.line or 0 for p in exc.problems]
        assert lines == sorted(lines)


@settings(PROFILE, max_examples=40)
@given(mutated())
def test_check_never_prints_a_traceback(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "f.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    assert main(["check", str(path)]) in (0, 1)


MEASURE = """
import json, os, resource, sys, time, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # were a guard to break: a MemoryError, not a dead machine
from topologies.errors import ScenarioError
from topologies.loader import load_checked

def judge(path):
    try:
        load_checked(path)
    except ScenarioError:
        pass

out = {}
for path in sys.argv[1:]:
    started = time.process_time()
    judge(path)
    cpu, peak = time.process_time() - started, None
    if os.path.getsize(path) < 2**20:  # tracemalloc triples the time: small files only; the process's peak covers all
        tracemalloc.start()
        judge(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out[path] = (cpu, peak)
# The peak resident size of this process's memory since its exec (ru_maxrss would count the parent's from fork).
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"files": out, "max_rss": peak_kb * 1024}))
"""


def test_every_file_is_judged_in_bounded_time_and_memory(tmp_path):
    # The world: 300 last miles, 2,000 demands (14,000 links and offers, 2 MB).  It took 18 s;
    # the budget here is generous (the machine is shared), and any quadratic step would blow it.
    world = tmp_path / "world.yaml"
    world.write_text(to_yaml(generate_world(last_miles=300, demands=2000, seed=0)))
    files = [*MALFORMED, *LIBRARY, str(world)]
    done = subprocess.run([sys.executable, "-c", MEASURE, *files], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert set(measured["files"]) == set(files)
    # In mutmut's copy of the tree (make mutants) every function of the loader goes through a
    # trampoline and the module carries each of its mutants, which costs time and memory of
    # their own, on the clean run too: the budget triples there.
    k = 3 if hasattr(loader, "_mutmut_mutated") else 1
    for path, (cpu, peak) in measured["files"].items():
        assert peak is None or peak < k * 200 * 2**20, (path, peak)
        assert cpu < k * (4.0 if path == str(world) else 2.0), (path, cpu)
    assert measured["max_rss"] < k * 200 * 2**20  # the whole process, the 2 MB world included
