from openisp.cli import main
from topologies.generate import generate_world, to_yaml
from topologies.loader import load_scenario, load_scenario_text


def test_generated_worlds_load_and_follow_the_parameters():
    data = generate_world(backbones=3, backbone_switches=5, last_miles=4, last_mile_switches=2, hosts_per_last_mile=2,
                          content=1, direct_probability=1.0, demands=12, seed=5)
    s = load_scenario_text(to_yaml(data), "gen.yaml")
    roles = [p.role for p in s.participants]
    assert roles.count("backbone") == 3 and roles.count("last_mile") == 4 and roles.count("content") == 1
    assert len(s.switches) == 3 * 5 + 4 * 2 + 1 and len(s.demands) == 12
    lm_access = {f"lm{i}-s1" for i in range(1, 5)}
    direct = [l for l in s.links if l.a in lm_access and l.b in lm_access]
    assert len(direct) == 6  # every pair, with probability 1
    assert to_yaml(generate_world(seed=5)) == to_yaml(generate_world(seed=5))


def test_generate_command_writes_a_loadable_file(tmp_path, capsys):
    out = tmp_path / "w.yaml"
    assert main(["generate", "--seed", "2", "--demands", "3", "-o", str(out)]) == 0
    assert len(load_scenario(out).demands) == 3
    assert main(["generate", "--hosts", "0"]) == 1
    assert "--hosts must be between 1 and 250" in capsys.readouterr().err


def test_show_draws_a_png(tmp_path):
    out = tmp_path / "d.png"
    assert main(["show", "topologies/default.yaml", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_topology_zoo_graphml_becomes_a_backbone_with_cities_speeds_and_distances(tmp_path):
    from topologies.generate import import_zoo

    data = import_zoo("tests/unit/topologies/fixtures/tiny_zoo.graphml", last_miles=2, hosts_per_last_mile=2, seed=1)
    s = load_scenario_text(to_yaml(data), "zoo.yaml")
    assert [sw.city for sw in s.switches[:4]] == ["Seattle", "Denver", "Chicago", "Nowhere"]
    sea_den, den_chi, chi_nowhere = s.links[:3]
    assert (sea_den.capacity_kbps, den_chi.capacity_kbps) == (10_000_000, 2_500_000)
    assert chi_nowhere.capacity_kbps == 1_000_000 and chi_nowhere.latency_ms == 1.0  # no speed, no coordinates
    assert 7.5 < sea_den.latency_ms < 9  # about 1,640 km of fibre
    assert s.emulation.scale * 10_000_000 / 1000 <= 20  # the fastest link stays small when emulated
    out = tmp_path / "z.yaml"
    assert main(["generate", "--zoo", "tests/unit/topologies/fixtures/tiny_zoo.graphml", "-o", str(out)]) == 0
    assert load_scenario(out).switch["z1"].city == "Seattle"
    assert main(["generate", "--zoo", str(tmp_path / "missing.graphml")]) == 1
