"""Pretrained models shipped inside a model package: ``<package>/pretrained/<name>.json`` (the
manifest) beside ``<name>.weights.h5``.

The manifest holds the model's full config, the weights' SHA-256 and size, the figures the
results file holds for these weights (``figures``, e.g. ``{"test_error_mean": 1.21}``) and where
those come from (``source``: the results file, the row's key, the run's commit). Loading checks
the checksum before the weights are read: a damaged, truncated or missing file is one
:class:`trainkit.RunError` line, never a half-loaded model.
"""

import hashlib
import importlib
import json
import os
import shutil

from trainkit.run_dir import RunError, atomic_write_text

DIR = "pretrained"
WEIGHTS_SUFFIX = ".weights.h5"


def bundle_dir(package):
    """The directory of ``package``'s pretrained models (``ram`` -> ``.../ram/pretrained``)."""
    return os.path.join(os.path.dirname(importlib.import_module(package).__file__), DIR)


def names(package):
    """The names of ``package``'s shipped models, sorted."""
    directory = bundle_dir(package)
    if not os.path.isdir(directory):
        return []
    return sorted(f[:-len(".json")] for f in os.listdir(directory) if f.endswith(".json"))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(package, name):
    """The manifest of ``package``'s model ``name``; :class:`RunError` for an unknown name or a
    damaged manifest."""
    known = names(package)
    if name not in known:
        raise RunError(f"no pretrained {package} model {name!r}; shipped: {', '.join(known) or 'none'}")
    path = os.path.join(bundle_dir(package), name + ".json")
    try:
        with open(path) as f:
            values = json.load(f)
        values["config"], values["sha256"], values["figures"]  # noqa: B018  (the keys every manifest has)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RunError(f"the pretrained {package} model {name!r} is damaged ({path}: {e}); reinstall the package "
                       "or restore the file (git checkout)") from None
    return values


def verified_weights(package, name):
    """``(path of the weights, manifest)`` once the file's SHA-256 matches the manifest's;
    :class:`RunError` if it is missing or differs (damaged, truncated or replaced)."""
    values = manifest(package, name)
    path = os.path.join(bundle_dir(package), name + WEIGHTS_SUFFIX)
    if not os.path.isfile(path):
        raise RunError(f"the pretrained {package} model {name!r} has no weights ({path} is missing); reinstall "
                       "the package or restore the file (git checkout)")
    actual = sha256(path)
    if actual != values["sha256"]:
        raise RunError(f"the pretrained {package} model {name!r} is damaged ({path}: SHA-256 {actual[:12]}..., "
                       f"expected {values['sha256'][:12]}...); reinstall the package or restore the file "
                       "(git checkout)")
    return path, values


def ship(package, name, config, weights, figures, source):
    """Writes ``package``'s pretrained model ``name``: a copy of the ``weights`` file and its
    manifest (``config``, checksum, ``figures``, ``source``). The manifest is written last and
    atomically, so that a copy cut short is never taken for a model."""
    directory = bundle_dir(package)
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, name + WEIGHTS_SUFFIX)
    shutil.copyfile(weights, target + ".tmp")
    os.replace(target + ".tmp", target)
    values = dict(name=name, model=config.MODEL, config=json.loads(config.to_json()), sha256=sha256(target),
                  bytes=os.path.getsize(target), figures=figures, source=source)
    atomic_write_text(os.path.join(directory, name + ".json"), json.dumps(values, indent=1, sort_keys=True) + "\n")
    return values
