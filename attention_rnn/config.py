"""Resolved hyperparameters of an attribute-benchmark run (written as ``config.json``)."""

import dataclasses

from trainkit.run_dir import JsonConfig


@dataclasses.dataclass(frozen=True)
class AttributeConfig(JsonConfig):
    """Everything needed to rebuild and retrain an :class:`AttributeNetwork` run.

    ``train_size``/``validation_size``: None uses the full splits (30,000 / 10,000).
    """

    dataset: str = "mref"
    attention: str = "arnn"
    filters: int = 32
    units: int = 32
    hidden: int = 64
    batch_size: int = 32
    epochs: int = 10
    learning_rate: float = 1e-3
    clipnorm: float = 5.0
    train_size: int = None
    validation_size: int = None
    seed: int = 0

    # A checkpoint is only valid for these (the data set may change: a model trained on MREF can
    # be fine-tuned on MBG).
    ARCHITECTURE = ("attention", "filters", "units", "hidden")

    def model_kwargs(self):
        return dict(attention=self.attention, filters=self.filters, units=self.units, hidden=self.hidden,
                    seed=self.seed)
