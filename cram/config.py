"""Resolved CRAM hyperparameters (written as ``config.json``)."""

import dataclasses

from trainkit.run_dir import JsonConfig

TASKS = ("classify", "inpaint")
CLUES = ("saliency", "oracle", "none")


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
        """The clue loss form (see :func:`cram.clue.clue_loss`)."""
        return self.clue_form or ("cover" if self.task == "inpaint" else "inside")

    MODEL = "cram"
    ARCHITECTURE = ("task", "dataset", "clue", "num_glimpses", "glimpse_size", "filters", "units")

    def checks(self):
        return [
            (self.task in TASKS, "task", " or ".join(TASKS)),
            (self.clue in CLUES, "clue", ", ".join(CLUES)),
            (self.clue_form in ("", "inside", "cover"), "clue_form", "inside or cover"),
            (1 <= self.num_glimpses <= 64, "num_glimpses", "1-64"),
            (1 <= self.glimpse_size <= 128, "glimpse_size", "1-128"),
            (1 <= self.filters <= 1024, "filters", "1-1024"),
            (1 <= self.units <= 8192, "units", "1-8192"),
            (self.clue_weight >= 0, "clue_weight", ">= 0"),
            (self.adversarial_weight >= 0, "adversarial_weight", ">= 0"),
            (1 <= self.batch_size <= 65536, "batch_size", "1-65536"),
            (self.epochs >= 1, "epochs", ">= 1"),
            (0 < self.learning_rate <= 10, "learning_rate", "in (0, 10]"),
            (self.saliency_epochs >= 0, "saliency_epochs", ">= 0"),
        ]
