"""One source of every setting: a config dataclass field holds its default, its allowed values or
range, its help text and its command-line name; the checks and the flags are generated from it.

A model's config declares each field with :func:`setting`::

    num_glimpses: int = setting(6, "Glimpses per image.", at_least=1, at_most=64, flag="step")

:class:`trainkit.JsonConfig` then refuses out-of-range values by itself (:func:`field_problem`),
an entry point defines one absl flag per field with :func:`define_flags` (so ``--help`` shows
the real default, the range and, where a table of per-data-set defaults varies the field, the
value for each data set), and :func:`given_settings` turns the flags a user gave into config
overrides without a hand-written list. Library classes check an argument against the same
field with :func:`check_value`. Adding a setting is one edit: the field.
"""

import dataclasses
import math

_NO_BOUNDS = dict(at_least=None, above=None, at_most=None, below=None)


def setting(default, help, *, choices=None, at_least=None, above=None, at_most=None, below=None, flag=None):
    """A config dataclass field with its help text, allowed ``choices`` or bounds, and ``flag``
    (its command-line name when it differs from the field's, e.g. the original repos' ``--step``).

    ``at_least``/``at_most`` are inclusive bounds, ``above``/``below`` exclusive; a default of
    None means "resolved later" (the config's ``__post_init__`` or the data set), and None then
    passes every check.
    """
    return dataclasses.field(default=default, metadata=dict(
        help=help, choices=tuple(choices) if choices is not None else None, flag=flag,
        bounds=dict(at_least=at_least, above=above, at_most=at_most, below=below)))


def _or_list(names):
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _number(value):
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else f"{value:g}"


def allowed(field):
    """What ``field`` accepts, in words (``"rnn or lstm"``, ``"1-64"``, ``"in (0, 10]"``,
    ``">= 1"``), or "" when any value of its type is fine."""
    meta = field.metadata
    if meta.get("choices"):
        return _or_list(meta["choices"])
    b = {**_NO_BOUNDS, **meta.get("bounds", {})}
    low = b["at_least"] if b["at_least"] is not None else b["above"]
    high = b["at_most"] if b["at_most"] is not None else b["below"]
    if low is not None and high is not None:
        if b["at_least"] is not None and b["at_most"] is not None and _field_type(field) is int:
            return f"{_number(low)}-{_number(high)}"
        return (f"in {'[' if b['at_least'] is not None else '('}{_number(low)}, {_number(high)}"
                f"{']' if b['at_most'] is not None else ')'}")
    if low is not None:
        return f"{'>=' if b['at_least'] is not None else '>'} {_number(low)}"
    if high is not None:
        return f"{'<=' if b['at_most'] is not None else '<'} {_number(high)}"
    return ""


def _field_type(field):
    return field.type if isinstance(field.type, type) else type(field.default)


def field_problem(field, value):
    """``"expected ..."`` when ``value`` breaks ``field``'s choices, bounds or finiteness; else None.
    (The type itself is :class:`trainkit.JsonConfig`'s check.)"""
    if value is None and field.default is None:
        return None
    meta = field.metadata
    if meta.get("choices") and value not in meta["choices"]:
        return f"expected {allowed(field)}"
    if isinstance(value, float) and not math.isfinite(value):
        return "expected a finite number"
    b = {**_NO_BOUNDS, **meta.get("bounds", {})}
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not (
            (b["at_least"] is None or value >= b["at_least"]) and (b["above"] is None or value > b["above"])
            and (b["at_most"] is None or value <= b["at_most"]) and (b["below"] is None or value < b["below"])):
        return f"expected {allowed(field)}"
    return None


def fields_of(config_cls):
    """``{name: dataclasses.Field}`` of a config class, in declaration order."""
    return {f.name: f for f in dataclasses.fields(config_cls)}


def check_value(config_cls, name, value):
    """Raises ``ValueError`` when ``value`` is not allowed for ``config_cls``'s field ``name``: how a
    library class (a model, a layer) checks an argument against the one declaration of it."""
    problem = field_problem(fields_of(config_cls)[name], value)
    if problem:
        raise ValueError(f"{name} is {value!r}; {problem}")
    return value


def choices_of(config_cls, name):
    """The allowed values of ``config_cls``'s field ``name``."""
    return fields_of(config_cls)[name].metadata["choices"]


def default_of(config_cls, name):
    """The declared default of ``config_cls``'s field ``name`` (before any per-data-set table)."""
    return fields_of(config_cls)[name].default


def flag_name(field):
    """The command-line name of a config field: its ``flag`` metadata, else the field's name."""
    return field.metadata.get("flag") or field.name


def help_text(field, per_dataset=None, dataset_flag="dataset"):
    """The flag's help: the field's text, what it accepts, and each data set's default where the
    ``per_dataset`` table (``{dataset: {field: value}}``) varies it."""
    text = field.metadata.get("help", "")
    accepts = allowed(field)
    if accepts and not field.metadata.get("choices"):
        text += f" ({accepts})"
    if per_dataset and any(field.name in row for row in per_dataset.values()):
        values = ", ".join(f"{d} {_shown(row.get(field.name, field.default))}" for d, row in per_dataset.items())
        text += f" Default per --{dataset_flag}: {values}."
    return text


def _shown(value):
    return _number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def define_flags(config_cls, per_dataset=None, skip=(), flag_values=None, dataset_flag="dataset"):
    """Defines one absl flag per field of ``config_cls`` (except ``skip``): type, default, allowed
    values and help from the field, so that ``--help`` is right by construction. A bad value fails
    flag parsing with one line naming the flag and what it accepts. ``per_dataset``: the config
    module's table of defaults by ``--<dataset_flag>`` value, which the help quotes. Returns the
    flag names."""
    from absl import flags

    flags.disclaim_key_flags()  # the flags belong to the calling entry point, listed in its --help
    flag_values = flags.FLAGS if flag_values is None else flag_values
    names = []
    for field in dataclasses.fields(config_cls):
        if field.name in skip:
            continue
        name, kind = flag_name(field), _field_type(field)
        text = help_text(field, per_dataset, dataset_flag)
        if field.metadata.get("choices"):
            flags.DEFINE_enum(name, field.default, [str(c) for c in field.metadata["choices"]], text,
                              flag_values=flag_values)
        elif kind is bool:
            flags.DEFINE_bool(name, field.default, text, flag_values=flag_values)
        elif kind is int:
            flags.DEFINE_integer(name, field.default, text, flag_values=flag_values)
        elif kind is float:
            flags.DEFINE_float(name, field.default, text, flag_values=flag_values)
        else:
            flags.DEFINE_string(name, field.default, text, flag_values=flag_values)
        flags.register_validator(name, _flag_checker(field), flag_values=flag_values)
        names.append(name)
    return names


def _flag_checker(field):
    from absl import flags

    def check(value):  # absl prefixes the flag and its value: "flag --step=0: expected 1-64"
        problem = field_problem(field, value)
        if problem:
            raise flags.ValidationError(problem)
        return True
    return check


def given_settings(config_cls, skip=(), flag_values=None):
    """``{field: value}`` of the flags of :func:`define_flags` that the user gave on the command
    line: the overrides of the config's (or its data set's) defaults."""
    from absl import flags

    flag_values = flags.FLAGS if flag_values is None else flag_values
    given = {}
    for field in dataclasses.fields(config_cls):
        if field.name in skip:
            continue
        flag = flag_values[flag_name(field)]
        if flag.present:
            given[field.name] = flag.value
    return given


def overrides(config, defaults):
    """``{field: value}`` where ``config`` differs from ``defaults`` (same class): what a run or a
    results row changed from the defaults it started from."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if getattr(config, f.name) != getattr(defaults, f.name)}


def config_from_flags(config_cls, make=None, skip=(), flag_values=None, **fixed):
    """The config the command line asks for: ``make(**overrides)`` (default ``config_cls``) with
    the flags the user gave (:func:`given_settings`) and ``fixed``. A value the config refuses
    (a rule that relates several fields) raises :class:`trainkit.ConfigError` naming the flag."""
    from trainkit.run_dir import ConfigError

    given = {**given_settings(config_cls, skip, flag_values), **fixed}
    try:
        return (make or config_cls)(**given)
    except ConfigError as e:
        message = str(e)
        for field in dataclasses.fields(config_cls):
            if message.startswith(f"{field.name} is "):
                message = f"--{flag_name(field)}{message[len(field.name):]}"
                break
        raise ConfigError(message) from None
