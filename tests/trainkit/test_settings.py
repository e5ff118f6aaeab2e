"""trainkit.settings: every setting declared once, in its config field, and the flags, checks and
library defaults generated from it."""

import dataclasses
import inspect
import math

import pytest
from absl import flags

from attention_rnn.config import AttributeConfig
from cram.config import TASK_DEFAULTS, CRAMConfig
from ram.config import DATASET_DEFAULTS, RAMConfig
from trainkit import ConfigError
from trainkit.settings import (allowed, check_value, config_from_flags, define_flags, field_problem, fields_of,
                               flag_name, given_settings, overrides)

CONFIGS = [(RAMConfig, DATASET_DEFAULTS, "dataset"), (AttributeConfig, None, "dataset"),
           (CRAMConfig, TASK_DEFAULTS, "task")]


def parsed(config_cls, argv=(), table=None, table_flag="dataset"):
    values = flags.FlagValues()
    define_flags(config_cls, per_dataset=table, flag_values=values, dataset_flag=table_flag)
    values(["prog", *argv])
    return values


def bad_values(field):
    """Values the field's declaration must refuse (none where any value of its type is fine)."""
    meta = field.metadata
    if meta["choices"]:
        return ["bogus"]
    b = meta["bounds"]
    kind = field.type if isinstance(field.type, type) else type(field.default)
    bad = []
    for bound, step in ((b["at_least"], -1), (b["above"], 0), (b["at_most"], 1), (b["below"], 0)):
        if bound is not None:
            bad.append(bound + step if kind is int else bound + step * 0.5)
    if kind is float:
        bad.append(math.nan)
    return bad


@pytest.mark.parametrize("config_cls,table,table_flag", CONFIGS)
def test_every_field_is_declared_with_help_and_gets_a_flag_with_its_default(config_cls, table, table_flag):
    values = parsed(config_cls, table=table, table_flag=table_flag)
    for field in dataclasses.fields(config_cls):
        assert field.metadata.get("help"), f"{config_cls.__name__}.{field.name} has no help text"
        flag = values[flag_name(field)]
        assert flag.value == field.default and field.metadata["help"] in flag.help
        if allowed(field) and not field.metadata["choices"]:
            assert f"({allowed(field)})" in flag.help  # the range, in words, in --help
        if table and any(field.name in row for row in table.values()):
            assert f"Default per --{table_flag}:" in flag.help
            for key, row in table.items():
                assert f"{key} " in flag.help


@pytest.mark.parametrize("config_cls,table,table_flag", CONFIGS)
def test_a_bad_value_of_every_kind_fails_parsing_with_one_line_naming_the_flag(config_cls, table, table_flag):
    checked = 0
    for field in dataclasses.fields(config_cls):
        for value in bad_values(field):
            name = flag_name(field)
            with pytest.raises(flags.IllegalFlagValueError) as error:
                parsed(config_cls, [f"--{name}={value}"], table, table_flag)
            message = str(error.value)
            assert message.startswith(f"flag --{name}=") and ("expected" in message or "one of" in message), message
            assert "\n" not in message.strip(), message
            with pytest.raises(ConfigError, match=f"^{field.name} is "):  # the config refuses it too
                config_cls(**{field.name: value})
            checked += 1
    assert checked >= 8


def test_wrong_types_are_refused_by_the_parser():
    for argv in (["--step=2.5"], ["--std=wide"], ["--core=gru"], ["--path_baseline=maybe"]):
        with pytest.raises(flags.Error):
            parsed(RAMConfig, argv, DATASET_DEFAULTS)


def test_given_settings_are_exactly_the_flags_on_the_command_line():
    values = parsed(RAMConfig, ["--step", "4", "--nopath_baseline", "--train_paths", "1", "--lr", "0.01"],
                    DATASET_DEFAULTS)
    assert given_settings(RAMConfig, flag_values=values) == dict(num_glimpses=4, path_baseline=False, train_paths=1,
                                                                 learning_rate=0.01)
    config = config_from_flags(RAMConfig, RAMConfig.for_dataset, skip=("dataset",), flag_values=values,
                               dataset="center")
    assert (config.num_glimpses, config.patch_size, config.learning_rate) == (4, 8, 0.01)  # center's patch


def test_a_rule_across_fields_is_one_error_naming_the_flag():
    values = parsed(RAMConfig, ["--train_paths", "1"], DATASET_DEFAULTS)  # the loo baseline needs 2 paths
    with pytest.raises(ConfigError, match=r"^--path_baseline is True; expected False unless train_paths >= 2"):
        config_from_flags(RAMConfig, RAMConfig.for_dataset, skip=("dataset",), flag_values=values,
                          dataset="translate")
    values = parsed(AttributeConfig, ["--warmup_epochs", "2"])
    with pytest.raises(ConfigError, match=r"^--warmup_lr is None"):
        config_from_flags(AttributeConfig, flag_values=values)
    values = parsed(CRAMConfig, ["--task", "inpaint", "--clue", "saliency"], TASK_DEFAULTS, "task")
    with pytest.raises(ConfigError, match=r"^--clue is 'saliency'; expected oracle for task inpaint"):
        config_from_flags(CRAMConfig, CRAMConfig.for_task, skip=("task",), flag_values=values, task="inpaint")


@pytest.mark.parametrize("dataset", list(DATASET_DEFAULTS))
def test_no_flags_train_the_data_sets_row_of_the_defaults_table(dataset):
    values = parsed(RAMConfig, ["--dataset", dataset], DATASET_DEFAULTS)
    config = config_from_flags(RAMConfig, RAMConfig.for_dataset, skip=("dataset",), flag_values=values,
                               dataset=dataset)
    assert config == RAMConfig.for_dataset(dataset)
    assert overrides(config, RAMConfig()) == {k: v for k, v in DATASET_DEFAULTS[dataset].items()
                                              if v != getattr(RAMConfig(), k)} | (
        {"dataset": dataset} if dataset != RAMConfig().dataset else {})
    # The recipe of the data set's best committed row: center's trained the paper's single-path RNN,
    # the others the LSTM with four paths per image.
    recipe = ("rnn", 1, False, 128) if dataset == "center" else ("lstm", 4, True, 32)
    assert (config.core, config.train_paths, config.path_baseline, config.batch_size) == recipe


@pytest.mark.parametrize("task", list(TASK_DEFAULTS))
def test_cram_tasks_take_their_row(task):
    values = parsed(CRAMConfig, ["--task", task], TASK_DEFAULTS, "task")
    config = config_from_flags(CRAMConfig, CRAMConfig.for_task, skip=("task",), flag_values=values, task=task)
    assert config == CRAMConfig.for_task(task)
    for key, value in TASK_DEFAULTS[task].items():
        assert getattr(config, key) == value


def _defaults(callable_):
    return {name: p.default for name, p in inspect.signature(callable_).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("model,config", [
    ("ram.model:RecurrentAttentionModel", RAMConfig()),
    ("ram.networks:CoreNetwork", RAMConfig()),
    ("ram.networks:LocationNetwork", RAMConfig()),
    ("attention_rnn.model:AttributeNetwork", AttributeConfig()),
    ("cram.classifier:CRAMClassifier", CRAMConfig.for_task("classify")),
    ("cram.encoder:CRAMEncoder", CRAMConfig.for_task("classify")),
    ("cram.inpainting:CRAMInpainter", CRAMConfig.for_task("inpaint")),
])
def test_library_classes_take_their_defaults_from_the_config(model, config):
    import importlib

    module, name = model.split(":")
    cls = getattr(importlib.import_module(module), name)
    aliases = {"activation": "location_activation"}
    shared = 0
    for argument, default in _defaults(cls.__init__).items():
        field = aliases.get(argument, argument)
        if field in fields_of(type(config)) and default is not None:
            assert default == getattr(config, field), f"{name}({argument}={default!r}) restates another default"
            shared += 1
    assert shared >= 1


def test_check_value_is_the_fields_own_check():
    assert check_value(RAMConfig, "core", "lstm") == "lstm"
    with pytest.raises(ValueError, match=r"^std is 0; expected in \(0, 10\]"):
        check_value(RAMConfig, "std", 0)
    field = fields_of(RAMConfig)["ema_momentum"]
    assert allowed(field) == "in [0, 1)" and field_problem(field, 1.0) == "expected in [0, 1)"
    assert field_problem(fields_of(AttributeConfig)["units"], None) is None  # None: resolved later
