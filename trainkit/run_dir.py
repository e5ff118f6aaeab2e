"""Run directories: ``config.json``, checkpoints, and the one-line errors their misuse gets.

A run directory holds ``run.json`` (which model wrote it and the architecture its checkpoints
are for, written once), ``config.json`` (the resolved hyperparameters), ``best.weights.h5`` and
``latest.weights.h5``, ``best.json`` (the best validation score), ``backup/`` (for resuming a
killed run) and ``logs/`` (TensorBoard).
"""

import dataclasses
import json
import math
import os

CONFIG_FILE = "config.json"
RUN_FILE = "run.json"  # which model wrote the run, and the architecture its checkpoints are for
BEST, LATEST = "best.weights.h5", "latest.weights.h5"


class RunError(Exception):
    """A user-facing problem with a run directory or checkpoint; the message says what to do."""


class ConfigError(RunError, ValueError):
    """A configuration value of the wrong type or out of range (a ``ValueError`` for library
    callers, a :class:`RunError` for the command lines, which print it as one line)."""


class JsonConfig:
    """Mixin for frozen dataclass configs: JSON round trip with type checks, ``MODEL`` (which
    model's runs this config describes) and ``ARCHITECTURE``, the fields a checkpoint is only
    valid for.

    ``from_json`` ignores unknown keys (an older ``config.json`` still loads), checks every
    value against its field's type (an int where a float is declared is fine; ``None`` only
    where the default is ``None``) and then calls :meth:`validate`, which subclasses extend
    with their own ranges and names. Every failure is a ``ValueError`` naming the field.
    """

    MODEL = "model"
    ARCHITECTURE = ()
    # What a field added (or whose default changed) after the first runs meant in a config.json
    # written before: from_json fills it in where the file lacks it.
    BEFORE_FIELD = {}
    # ARCHITECTURE fields added after the first release: a config.json without them (and
    # without run.json) may still be this model's.
    LATER_ARCHITECTURE = ()

    def __post_init__(self):
        for field in dataclasses.fields(self):
            _check_type(field.name, getattr(self, field.name), field)
        self.validate()

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ConfigError(f"expected a JSON object, got {type(values).__name__}")
        values = {**cls.BEFORE_FIELD, **values}
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in fields})  # checked by __post_init__

    @classmethod
    def looks_like(cls, values):
        """Whether a ``config.json`` without ``run.json`` (an older run) may be this model's."""
        return set(cls.ARCHITECTURE) - set(cls.LATER_ARCHITECTURE) <= set(values)

    @classmethod
    def from_table(cls, table, key_field, key, **overrides):
        """The config whose ``key_field`` is ``key``: the class defaults, then ``table[key]`` (the
        config module's per-data-set or per-task defaults), then every non-None override.
        :class:`ConfigError` for a key the table does not hold."""
        if key not in table:
            raise ConfigError(f"unknown {key_field} {key!r}; valid: {', '.join(table)}")
        values = dict(table[key], **{key_field: key})
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def checks(self):
        """``[(ok, field, expected), ...]``: the rules a subclass adds beyond each field's own
        declared choices and bounds (those that relate several fields)."""
        return []

    def validate(self):
        """Raises :class:`ConfigError` naming the first field whose value breaks its declared
        choices or bounds (:func:`trainkit.settings.setting`), then the first that fails
        :meth:`checks` (the rules that involve several fields)."""
        from trainkit.settings import field_problem

        for field in dataclasses.fields(self):
            problem = field_problem(field, getattr(self, field.name))
            if problem:
                raise ConfigError(f"{field.name} is {getattr(self, field.name)!r}; {problem}")
        for ok, name, expected in self.checks():
            if not ok:
                raise ConfigError(f"{name} is {getattr(self, name)!r}; expected {expected}")

    def architecture(self):
        """``{field: value}`` of :attr:`ARCHITECTURE`."""
        return {name: getattr(self, name) for name in self.ARCHITECTURE}

    def architecture_clash(self, new):
        """``["field: old there, new now", ...]`` for each :attr:`ARCHITECTURE` field in which
        ``new`` differs from this (older) config: why this config's checkpoints would not fit it."""
        return [f"{k}: {v} there, {getattr(new, k)} now" for k, v in self.architecture().items()
                if getattr(new, k) != v]


def _check_type(name, value, field):
    declared = field.type if isinstance(field.type, type) else type(field.default)
    if value is None:
        if field.default is None:
            return
        raise ConfigError(f"{name} is null; expected {declared.__name__}")
    if field.default is None and field.type in (int, float, str, bool):
        declared = field.type
    ok = (isinstance(value, bool) if declared is bool
          else isinstance(value, (int, float)) and not isinstance(value, bool) if declared is float
          else isinstance(value, int) and not isinstance(value, bool) if declared is int
          else isinstance(value, declared))
    if not ok:
        raise ConfigError(f"{name} is {value!r}; expected {declared.__name__}")
    if declared is float and not math.isfinite(value):
        raise ConfigError(f"{name} is {value!r}; expected a finite number")


def atomic_write_text(path, text):
    """Writes ``text`` beside ``path`` and renames it into place: a reader never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def refuse_nonempty_dir(path, flag="--export"):
    """Raises :class:`RunError` if ``path`` exists and is not an empty directory."""
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise RunError(f"{flag} {path} exists and is not empty; choose a new directory")
    check_output_dir(path, flag)


def check_output_dir(path, flag):
    """Raises :class:`RunError` unless ``path`` is, or can become, a writable directory.

    Called before any training or loading, so that a bad ``--export`` or ``--predict_dir``
    is refused at once instead of failing after the work it was to hold. Nothing is created.
    """
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        what = "is a file" if existing == os.path.abspath(path) else f"is inside the file {existing}"
        raise RunError(f"{flag} {path} {what}; choose a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RunError(f"{flag} {path} cannot be written ({existing} is not writable); choose another directory")


def prepare_run_dir(model_dir, config):
    """Creates ``model_dir`` and writes ``config.json``; refuses a directory holding a run whose
    ``ARCHITECTURE`` fields differ (its checkpoints would not fit)."""
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as e:
        raise RunError(f"cannot create --model_dir {model_dir}: {e.strerror}; choose another directory") from None
    if not os.access(model_dir, os.W_OK):
        raise RunError(f"--model_dir {model_dir} is not writable; choose another directory")
    path = os.path.join(model_dir, CONFIG_FILE)
    if os.path.lexists(path) or os.path.lexists(os.path.join(model_dir, RUN_FILE)):
        old = load_config(model_dir, type(config))
        clash = old.architecture_clash(config)
        if clash:
            raise RunError(f"--model_dir {model_dir} holds a run with another configuration ({'; '.join(clash)}); "
                           "use a new --model_dir or the same flags")
    else:
        # Only a fresh run writes its identity: an existing one keeps the record of what its
        # checkpoints were trained as.
        atomic_write_text(os.path.join(model_dir, RUN_FILE), json.dumps(
            {"model": config.MODEL, "architecture": config.architecture()}, indent=2, sort_keys=True))
    atomic_write_text(path, config.to_json())


def _read_json_file(path, what):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:  # a directory in its place, no permission, ...
        raise RunError(f"cannot read {what} {path} ({e.strerror or e}); restore it or retrain") from None


def load_config(model_dir, config_cls):
    """The ``config_cls`` stored in ``model_dir/config.json``, checked against the run's identity.

    Raises :class:`RunError` if the directory holds no run, holds another model's run
    (``run.json`` names the model that wrote it), or if ``config.json`` is damaged, has a
    value of the wrong type or out of range, or no longer describes the architecture the
    checkpoints were trained with (an edit by hand).
    """
    path = os.path.join(model_dir, CONFIG_FILE)
    run_path = os.path.join(model_dir, RUN_FILE)
    identity = None
    if os.path.lexists(run_path):
        try:
            identity = json.loads(_read_json_file(run_path, "the run record"))
            model, architecture = identity["model"], dict(identity["architecture"])
        except (ValueError, KeyError, TypeError):
            raise RunError(f"{run_path} is damaged; restore it, or retrain in a new --model_dir") from None
        if model != config_cls.MODEL:
            raise RunError(f"--model_dir {model_dir} holds a {model} run, not a {config_cls.MODEL} one; "
                           f"use that model's command line or another --model_dir")
    if not os.path.lexists(path):
        raise RunError(f"no trained model in {model_dir} (no {CONFIG_FILE}); train one with --train "
                       "or point --model_dir at a run directory")
    text = _read_json_file(path, "the run's configuration")
    try:
        if identity is None and not config_cls.looks_like(json.loads(text)):
            raise RunError(f"--model_dir {model_dir} holds a run of another model (its {CONFIG_FILE} lacks "
                           f"{', '.join(sorted(set(config_cls.ARCHITECTURE) - set(json.loads(text))))}); "
                           "use that model's command line or another --model_dir")
        config = config_cls.from_json(text)
    except (ValueError, TypeError, AttributeError) as e:
        raise RunError(f"{path} is damaged or from another model ({e}); retrain or restore it") from None
    if identity is not None:
        edited = [f"{k}: {architecture[k]!r} in {RUN_FILE}, {v!r} in {CONFIG_FILE}"
                  for k, v in config.architecture().items() if k in architecture and architecture[k] != v]
        if edited:
            raise RunError(f"{path} no longer matches the model its checkpoints were trained as "
                           f"({'; '.join(edited)}); undo the edit, or retrain in a new --model_dir")
    return config


def checkpoint_path(model_dir, which):
    """``best``, ``latest`` or a path -> the checkpoint file; :class:`RunError` if it does not exist."""
    path = {"best": os.path.join(model_dir, BEST), "latest": os.path.join(model_dir, LATEST)}.get(which, which)
    if not os.path.exists(path):
        raise RunError(f"checkpoint {path} does not exist; use --load best, --load latest or a "
                       ".weights.h5 file, after --train")
    return path


def build_optimizers(model):
    """Creates the optimizer slots of a built, compiled ``model`` now, once.

    Otherwise Keras (outside a strategy scope) creates them inside the first trace of the
    train step, and a ``tf.function`` that creates variables is traced twice: building them
    first halves the first step's tracing. Checkpoints also need them to load the slots."""
    if hasattr(model, "build_optimizers"):  # models with several optimizers (GANs)
        model.build_optimizers()
    elif getattr(model, "optimizer", None) is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def load_weights(model, path):
    """Loads ``path`` into a built ``model`` (whose optimizer, if any, is built so that its saved
    slots load silently); :class:`RunError` for a damaged or mismatched file."""
    build_optimizers(model)
    try:
        model.load_weights(path)
    except Exception as e:  # h5py/keras raise many types for a damaged or mismatched file
        raise RunError(f"cannot load checkpoint {path} ({type(e).__name__}: {e}); "
                       "it is damaged or from another configuration") from None
