"""Benchmark run names: a setting that changes the data or the draw gets its own run."""

from benchmarks.results import run_name


def test_defaults_keep_the_bare_name_and_each_changed_setting_is_named_in_order():
    assert run_name("cram_saliency", limit=(None, None), seed=(0, 0)) == "cram_saliency"
    assert run_name("ram", glimpses=(6, 8), limit=(20000, None), seed=(1, 0)) == "ram_glimpses6_limit20000_seed1"
    assert run_name("cram", source=("tfds", "standin"), seed=(0, 0)) == "cram_sourcetfds"


def test_a_second_seed_never_shares_the_first_seeds_run():
    names = {run_name("cram_none", seed=(seed, 0)) for seed in range(3)}
    assert len(names) == 3
