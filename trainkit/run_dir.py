"""Run directories: ``config.json``, checkpoints, and the one-line errors their misuse gets.

A run directory holds ``config.json`` (the resolved hyperparameters), ``best.weights.h5`` and
``latest.weights.h5``, ``best.json`` (the best validation score), ``backup/`` (for resuming a
killed run) and ``logs/`` (TensorBoard).
"""

import dataclasses
import json
import os

CONFIG_FILE = "config.json"
BEST, LATEST = "best.weights.h5", "latest.weights.h5"


class RunError(Exception):
    """A user-facing problem with a run directory or checkpoint; the message says what to do."""


class JsonConfig:
    """Mixin for frozen dataclass configs: JSON round trip (unknown keys ignored, so an older
    ``config.json`` still loads) and ``ARCHITECTURE``, the fields a checkpoint is only valid for."""

    ARCHITECTURE = ()

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


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
    if os.path.exists(path):
        old = load_config(model_dir, type(config))
        clash = [f"{k}: {getattr(old, k)} there, {getattr(config, k)} now"
                 for k in config.ARCHITECTURE if getattr(old, k) != getattr(config, k)]
        if clash:
            raise RunError(f"--model_dir {model_dir} holds a run with another configuration ({'; '.join(clash)}); "
                           "use a new --model_dir or the same flags")
    atomic_write_text(path, config.to_json())


def load_config(model_dir, config_cls):
    """The ``config_cls`` stored in ``model_dir/config.json``; :class:`RunError` if absent or damaged."""
    path = os.path.join(model_dir, CONFIG_FILE)
    if not os.path.exists(path):
        raise RunError(f"no trained model in {model_dir} (no {CONFIG_FILE}); train one with --train "
                       "or point --model_dir at a run directory")
    try:
        with open(path) as f:
            return config_cls.from_json(f.read())
    except (ValueError, TypeError, AttributeError) as e:
        raise RunError(f"{path} is damaged or from another model ({e}); retrain or restore it") from None


def checkpoint_path(model_dir, which):
    """``best``, ``latest`` or a path -> the checkpoint file; :class:`RunError` if it does not exist."""
    path = {"best": os.path.join(model_dir, BEST), "latest": os.path.join(model_dir, LATEST)}.get(which, which)
    if not os.path.exists(path):
        raise RunError(f"checkpoint {path} does not exist; use --load best, --load latest or a "
                       ".weights.h5 file, after --train")
    return path


def load_weights(model, path):
    """Loads ``path`` into a built ``model`` (whose optimizer, if any, is built so that its saved
    slots load silently); :class:`RunError` for a damaged or mismatched file."""
    if hasattr(model, "build_optimizers"):  # models with several optimizers (GANs)
        model.build_optimizers()
    elif getattr(model, "optimizer", None) is not None:
        model.optimizer.build(model.trainable_variables)
    try:
        model.load_weights(path)
    except Exception as e:  # h5py/keras raise many types for a damaged or mismatched file
        raise RunError(f"cannot load checkpoint {path} ({type(e).__name__}: {e}); "
                       "it is damaged or from another configuration") from None
