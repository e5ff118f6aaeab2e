"""A run directory knows which model wrote it; config.json is type-checked and cannot drift
from the checkpoints' architecture."""

import json
import os

import pytest

from attention_rnn.config import AttributeConfig
from cram.config import CRAMConfig
from ram.config import RAMConfig
from trainkit import ConfigError, RunError, load_config, prepare_run_dir


@pytest.fixture
def ram_run(tmp_path):
    run = tmp_path / "ram_run"
    prepare_run_dir(str(run), RAMConfig.for_dataset("translate"))
    return run


@pytest.mark.parametrize("other", [AttributeConfig, CRAMConfig])
def test_another_models_cli_is_refused_and_nothing_is_touched(ram_run, other):
    before = {name: (ram_run / name).read_text() for name in ("config.json", "run.json")}
    with pytest.raises(RunError, match="holds a ram run, not a"):
        prepare_run_dir(str(ram_run), other())
    with pytest.raises(RunError, match="holds a ram run"):
        load_config(str(ram_run), other)
    assert {name: (ram_run / name).read_text() for name in before} == before


def test_an_older_run_without_identity_is_recognised_by_its_fields(ram_run):
    os.remove(ram_run / "run.json")
    assert load_config(str(ram_run), RAMConfig).num_glimpses == 6
    with pytest.raises(RunError, match="holds a run of another model"):
        load_config(str(ram_run), AttributeConfig)


def edit(run, **changes):
    values = json.loads((run / "config.json").read_text())
    values.update(changes)
    (run / "config.json").write_text(json.dumps(values))


def test_a_valid_edit_of_the_architecture_is_refused(ram_run):
    edit(ram_run, num_glimpses=4)
    with pytest.raises(RunError, match="num_glimpses: 6 in run.json, 4 in config.json"):
        load_config(str(ram_run), RAMConfig)
    edit(ram_run, num_glimpses=6, epochs=99)  # not architecture: fine
    assert load_config(str(ram_run), RAMConfig).epochs == 99


@pytest.mark.parametrize("changes,message", [
    (dict(num_glimpses="six"), "num_glimpses is 'six'; expected int"),
    (dict(std=-0.1), "std is -0.1"),
    (dict(std=True), "std is True; expected float"),
    (dict(core="gru"), "core is 'gru'"),
    (dict(num_glimpses=5000), "num_glimpses is 5000; expected 1-64"),
    (dict(learning_rate=None), "learning_rate is null"),
])
def test_hand_edited_values_are_named(ram_run, changes, message):
    edit(ram_run, **changes)
    with pytest.raises(RunError, match=message):
        load_config(str(ram_run), RAMConfig)


def test_a_directory_in_place_of_config_json(ram_run):
    os.remove(ram_run / "config.json")
    os.mkdir(ram_run / "config.json")
    with pytest.raises(RunError, match="cannot read"):
        load_config(str(ram_run), RAMConfig)


def test_library_configs_raise_value_errors_naming_the_field():
    with pytest.raises(ValueError, match="std is -1"):
        RAMConfig(std=-1.0)
    with pytest.raises(ConfigError, match="unknown dataset"):
        RAMConfig.for_dataset("mnist60")
    with pytest.raises(ValueError, match="attention is 'transformer'"):
        AttributeConfig(attention="transformer")
    with pytest.raises(ValueError, match="clue is 'hint'"):
        CRAMConfig(clue="hint")
    with pytest.raises(ValueError, match="epochs is 2.5; expected int"):
        RAMConfig(epochs=2.5)
    assert RAMConfig(std=1).std == 1  # an int where a float is declared is fine
