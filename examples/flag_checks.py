"""Flag checks the three command lines share (absl only: a bad flag fails before TF loads)."""

import math

from absl import flags


def require_finite(*names):
    """Refuses nan and inf for these float flags: their bounds let them through ("nan < 0" is
    false), and a NaN learning rate or std only shows much later as a NaN loss."""
    for name in names:
        flags.register_validator(name, lambda v: v is None or math.isfinite(v),
                                 message=f"--{name} must be a finite number")
