"""Flag checks the three command lines share (absl only: a bad flag fails before TF loads)."""

import importlib
import math

from absl import flags


def require_finite(*names):
    """Refuses nan and inf for these float flags: their bounds let them through ("nan < 0" is
    false), and a NaN learning rate or std only shows much later as a NaN loss."""
    for name in names:
        flags.register_validator(name, lambda v: v is None or math.isfinite(v),
                                 message=f"--{name} must be a finite number")


def require_known(name, known, noun):
    """Refuses a flag ``name`` (a string, or a list that must not be empty) naming an unknown
    ``noun``: one line with the valid names. ``known`` is ``"module:NAME"``, a sequence of names in
    that module, imported only when the flags are parsed, so that naming a module which loads
    TensorFlow costs nothing at import (and ``--help`` stays fast)."""
    def check(values):
        module, attribute = known.split(":")
        valid = getattr(importlib.import_module(module), attribute)
        if values is None:
            return True
        if isinstance(values, str):
            values = [values]
        elif not values:
            raise flags.ValidationError(f"--{name} is empty; valid: {', '.join(valid)}")
        unknown = [value for value in values if value not in valid]
        if unknown:
            raise flags.ValidationError(f"unknown {noun} {', '.join(unknown)}; valid: {', '.join(valid)}")
        return True

    flags.register_validator(name, check)
