"""Resolved CRAM hyperparameters (written as ``config.json``)."""

import dataclasses

from trainkit.run_dir import JsonConfig


@dataclasses.dataclass(frozen=True)
class CRAMConfig(JsonConfig):
    """Everything needed to rebuild and retrain a CRAM run.

    ``task`` is ``classify`` (MNIST canvases: center, translate, clutter, clutter100) or
    ``inpaint`` (``svhn_occluded``). Sec. V-A: Adam, learning rate 1e-4.
    """

    task: str = "classify"
    dataset: str = "clutter"
    clue: str = "saliency"
    num_glimpses: int = 8
    glimpse_size: int = 16
    filters: int = 32
    units: int = 256
    clue_weight: float = 1.0
    clue_form: str = ""  # "" is the task's default: "inside" (classify), "cover" (inpaint)
    adversarial_weight: float = 0.001
    batch_size: int = 64
    epochs: int = 10
    learning_rate: float = 1e-4
    saliency_epochs: int = 2
    svhn_source: str = "standin"
    seed: int = 0

    @property
    def resolved_clue_form(self):
        """The clue loss form (see :func:`cram.networks.clue_loss`)."""
        return self.clue_form or ("cover" if self.task == "inpaint" else "inside")

    ARCHITECTURE = ("task", "dataset", "clue", "num_glimpses", "glimpse_size", "filters", "units")
