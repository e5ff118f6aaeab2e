"""Flag checks the three command lines share (absl only: a bad flag fails before TF loads)."""

import math

from absl import flags


def require_finite(*names):
    """Refuses nan and inf for these float flags: their bounds let them through ("nan < 0" is
    false), and a NaN learning rate or std only shows much later as a NaN loss."""
    for name in names:
        flags.register_validator(name, lambda v: v is None or math.isfinite(v),
                                 message=f"--{name} must be a finite number")


def require_known(name, known, noun):
    """Refuses an empty list flag ``name`` or one naming an unknown ``noun``: one line with the
    valid names. ``known()`` returns them; it is called only when the flags are parsed, so that a
    module which loads TensorFlow to name them costs nothing at import."""
    def check(values):
        names = known()
        if not values:
            raise flags.ValidationError(f"--{name} is empty; valid: {', '.join(names)}")
        unknown = [value for value in values if value not in names]
        if unknown:
            raise flags.ValidationError(f"unknown {noun} {', '.join(unknown)}; valid: {', '.join(names)}")
        return True

    flags.register_validator(name, check)
