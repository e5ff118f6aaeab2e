"""Resolved hyperparameters of an attribute-benchmark run (written as ``config.json``)."""

import dataclasses
import json

from data.attributes import NUM_ANSWERS, QUERY_SIZE, TASKS
from trainkit.run_dir import JsonConfig

ATTENTIONS = ("none", "san", "nctx", "ctx", "arnn", "arnn_ind", "arnn_sample", "brnn")

# Units of each attention layer when none are given. For the AttentionRNN types this is the
# latent size t of the context convolution and the diagonal LSTMs, which the paper leaves open
# for the attribute experiment: at 16 an ARNN training step costs under 4x the base CNN's (32:
# about 5.3x) and ARNN trained as well or better (docs/attention_rnn.md#speed). The other types'
# units (query embedding, context convolution) stay at the 32 their Table 1 rows were trained with.
ATTENTION_RNN_UNITS = 16
OTHER_UNITS = 32


def default_units(attention):
    """Units of each attention layer of type ``attention`` when none are given."""
    return ATTENTION_RNN_UNITS if attention in ("arnn", "arnn_ind", "arnn_sample", "brnn") else OTHER_UNITS


@dataclasses.dataclass(frozen=True)
class AttributeConfig(JsonConfig):
    """Everything needed to rebuild and retrain an :class:`AttributeNetwork` run.

    ``train_size``/``validation_size``: query rows; None uses the full splits (30,000 / 10,000).
    ``task``: ``"attribute"`` (query a digit, answer its colour) or ``"inverse"`` (query a
    colour, answer the digit; see :mod:`data.attributes`).
    ``batch_norm``, ``dropout``: PAN's normalisation and head dropout (see
    :class:`attention_rnn.model.AttributeNetwork`); a ``config.json`` written before they
    existed describes a network without them.
    ``head_query``: the query also feeds the head (ours until now); False is PAN's head, where
    it reaches the answer only through the masks (not available for ``attention="none"``).
    ``mask_norm``: each mask is divided by its mean over locations before it multiplies the
    features (see :class:`attention_rnn.model.AttributeNetwork`); not in the paper, a remedy
    for masks that drift shut. A ``config.json`` written before it existed means False.
    ``warmup_epochs``, ``warmup_learning_rate``: train the first ``warmup_epochs`` epochs at
    ``warmup_learning_rate``, then at ``learning_rate`` (a step, counted in optimizer steps);
    0 and None for no warm-up. Both are set or neither.
    ``units``: None resolves to :func:`default_units` of ``attention`` (a ``config.json`` always
    holds the number; one written before the field existed means 32).
    """

    dataset: str = "mref"
    task: str = "attribute"
    attention: str = "arnn"
    filters: int = 32
    units: int = None
    hidden: int = 64
    batch_norm: bool = True
    dropout: float = 0.0
    head_query: bool = True
    mask_norm: bool = False
    batch_size: int = 32
    epochs: int = 10
    learning_rate: float = 1e-3
    warmup_epochs: int = 0
    warmup_learning_rate: float = None
    clipnorm: float = 5.0
    train_size: int = None
    validation_size: int = None
    seed: int = 0

    # A checkpoint is only valid for these (the data set may change: a model trained on MREF can
    # be fine-tuned on MBG).
    MODEL = "attribute"
    ARCHITECTURE = ("attention", "filters", "units", "hidden", "task", "batch_norm", "head_query", "mask_norm")
    LATER_ARCHITECTURE = ("task", "batch_norm", "head_query", "mask_norm")
    # What a field added later meant before it existed.
    BEFORE_FIELD = {"batch_norm": False, "dropout": 0.0, "head_query": True, "warmup_epochs": 0,
                    "warmup_learning_rate": None, "mask_norm": False, "units": OTHER_UNITS}

    def __post_init__(self):
        if self.units is None:  # frozen: resolved once, so that config.json and run names hold the number
            object.__setattr__(self, "units", default_units(self.attention))
        super().__post_init__()

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        if isinstance(values, dict):
            values = {**cls.BEFORE_FIELD, **values}
        return super().from_json(json.dumps(values))

    def checks(self):
        return [
            (self.dataset in ("mref", "mdist", "mbg"), "dataset", "mref, mdist or mbg"),
            (self.attention in ATTENTIONS, "attention", ", ".join(ATTENTIONS)),
            (self.task in TASKS, "task", " or ".join(TASKS)),
            (1 <= self.filters <= 1024, "filters", "1-1024"),
            (1 <= self.units <= 1024, "units", "1-1024"),
            (1 <= self.hidden <= 8192, "hidden", "1-8192"),
            (1 <= self.batch_size <= 65536, "batch_size", "1-65536"),
            (self.epochs >= 1, "epochs", ">= 1"),
            (0 < self.learning_rate <= 10, "learning_rate", "in (0, 10]"),
            (self.warmup_epochs >= 0, "warmup_epochs", ">= 0"),
            ((self.warmup_epochs == 0) == (self.warmup_learning_rate is None), "warmup_learning_rate",
             "a rate in (0, 10] when warmup_epochs > 0, None when warmup_epochs is 0"),
            (self.warmup_learning_rate is None or 0 < self.warmup_learning_rate <= 10, "warmup_learning_rate",
             "None or in (0, 10]"),
            (self.clipnorm > 0, "clipnorm", "> 0"),
            (0 <= self.dropout < 1, "dropout", "in [0, 1)"),
            (self.head_query or self.attention != "none", "head_query",
             "True for attention none (the query has no other way in)"),
            (self.train_size is None or self.train_size >= 1, "train_size", "None or >= 1"),
            (self.validation_size is None or self.validation_size >= 1, "validation_size", "None or >= 1"),
        ]

    def model_kwargs(self):
        return dict(attention=self.attention, filters=self.filters, units=self.units, hidden=self.hidden,
                    seed=self.seed, num_classes=NUM_ANSWERS[self.task], batch_norm=self.batch_norm,
                    dropout=self.dropout, head_query=self.head_query, mask_norm=self.mask_norm)

    @property
    def query_size(self):
        return QUERY_SIZE[self.task]
