"""CRAM's settings, each declared once: its default, allowed values and help (the command line's
flags are generated from these fields), and the one table of per-task defaults."""

import dataclasses
import json

from trainkit.run_dir import JsonConfig
from trainkit.settings import setting

TASKS = ("classify", "inpaint")
CLUES = ("saliency", "oracle", "none")
CLUE_FORMS = ("inside", "cover")
CLASSIFY_DATASETS = ("center", "translate", "clutter", "clutter100")

# Per task (Sec. V): clued classification of cluttered MNIST with 8 glimpses onto a saliency
# clue; SVHN inpainting with 4 glimpses onto the occlusion mask (its clue, always given). The
# clue loss asks classification windows to lie inside the clue and inpainting windows to cover
# the hole (see cram.clue.clue_loss).
TASK_DEFAULTS = {
    "classify": dict(dataset="clutter", clue="saliency", num_glimpses=8, clue_form="inside"),
    "inpaint": dict(dataset="svhn_occluded", clue="oracle", num_glimpses=4, clue_form="cover"),
}


@dataclasses.dataclass(frozen=True)
class CRAMConfig(JsonConfig):
    """Everything needed to rebuild and retrain a CRAM run (Sec. V-A: Adam, learning rate 1e-4).

    Build one with :meth:`for_task` (the task's defaults, then overrides); ``task`` is
    ``classify`` (MNIST canvases: center, translate, clutter, clutter100) or ``inpaint``
    (``svhn_occluded``, whose clue is always the occlusion mask).
    """

    task: str = setting("classify", "Clued classification or SVHN inpainting.", choices=TASKS)
    dataset: str = setting("clutter", "classify: center, translate, clutter or clutter100; inpaint: "
                           "svhn_occluded.", choices=CLASSIFY_DATASETS + ("svhn_occluded",))
    clue: str = setting("saliency", "classify: saliency (a CNN-DecNN trained first), oracle (the true target "
                        "region) or none (no clue loss). inpaint: always the occlusion mask (oracle).",
                        choices=CLUES)
    num_glimpses: int = setting(8, "Glimpses.", at_least=1, at_most=64, flag="step")
    glimpse_size: int = setting(16, "Side of each glimpse the spatial transformer samples, in pixels.",
                                at_least=1, at_most=128)
    filters: int = setting(32, "Filters of the glimpse CNN.", at_least=1, at_most=1024)
    units: int = setting(256, "LSTM and MLP width.", at_least=1, at_most=8192)
    clue_weight: float = setting(1.0, "Weight lambda of the clue loss.", at_least=0)
    clue_form: str = setting("inside", "Clue loss: windows inside the clue, or windows covering it (see "
                             "cram.clue.clue_loss).", choices=CLUE_FORMS)
    adversarial_weight: float = setting(0.001, "Weight of the local + global GAN losses (inpaint).", at_least=0)
    batch_size: int = setting(64, "Batch size.", at_least=1, at_most=65536, flag="batch")
    epochs: int = setting(10, "Epochs to train.", at_least=1, flag="epoch")
    minutes: float = setting(0.0, "Also stop after the epoch that passes this many minutes of training, "
                             "summed over sittings (0: no cap).", at_least=0)
    learning_rate: float = setting(1e-4, "Adam learning rate (paper: 1e-4).", above=0, at_most=10, flag="lr")
    saliency_epochs: int = setting(2, "Epochs of saliency pre-training (classify, --clue saliency).", at_least=0)
    svhn_source: str = setting("standin", "inpaint data: the labelled offline stand-in, TFDS svhn_cropped "
                               "(internet), or --svhn_dir.", choices=("standin", "tfds", "dir"))
    seed: int = setting(0, "Seed of data, initialisation and shuffling.")

    @classmethod
    def for_task(cls, task, **overrides):
        """Defaults of ``task`` with every non-None override applied."""
        return cls.from_table(TASK_DEFAULTS, "task", task, **overrides)

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        if isinstance(values, dict) and values.get("clue_form") == "":  # written when "" meant the task's
            values["clue_form"] = TASK_DEFAULTS.get(values.get("task"), {}).get("clue_form", "inside")
        return super().from_json(json.dumps(values))

    MODEL = "cram"
    ARCHITECTURE = ("task", "dataset", "clue", "num_glimpses", "glimpse_size", "filters", "units")

    def checks(self):
        """The rules that relate several fields (each field's own range is declared with it)."""
        inpaint = self.task == "inpaint"
        return [
            ((self.dataset == "svhn_occluded") == inpaint, "dataset",
             "svhn_occluded for task inpaint, one of " + ", ".join(CLASSIFY_DATASETS) + " for classify"),
            (not inpaint or self.clue == "oracle", "clue", "oracle for task inpaint (its clue is the occlusion mask)"),
        ]


DEFAULTS = CRAMConfig()  # the class defaults, which the library's models take theirs from
