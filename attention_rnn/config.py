"""The attribute network's settings, each declared once: its default, allowed values and help
(the command lines' flags are generated from these fields)."""

import dataclasses

from data.attributes import NUM_ANSWERS, QUERY_SIZE, TASKS
from trainkit.run_dir import JsonConfig
from trainkit.settings import setting

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
    """Everything needed to rebuild and retrain an :class:`AttributeNetwork` run; each field
    declares its default, allowed values and help (``python -m examples.attribute --help``).

    The defaults are Table 1's protocol (Sec. 4.1): the full splits, Adam at 1e-3, batch 32, at
    most 10 epochs, stopped after 2 without a better validation accuracy (never before 5).
    ``units``: None resolves to :func:`default_units` of ``attention`` (a ``config.json`` always
    holds the number; one written before the field existed means 32). A field added after the
    first runs means, in an older ``config.json``, what :attr:`BEFORE_FIELD` says.
    """

    dataset: str = setting("mref", "Data set: MREF (black background), MDIST (plus distractors) or MBG "
                           "(natural backgrounds; offline a labelled stand-in).", choices=("mref", "mdist", "mbg"))
    task: str = setting("attribute", "attribute: what colour is digit q? inverse: which digit has colour q? "
                        "(5 digits per image, one of each colour).", choices=TASKS)
    attention: str = setting("arnn", "none; san (soft attention, last layer); nctx / ctx (local attention, "
                             "1x1 / 3x3 context); arnn (AttentionRNN); arnn_ind (independent combination); "
                             "arnn_sample (sampled mask); brnn (Block AttentionRNN, block 2).", choices=ATTENTIONS)
    filters: int = setting(32, "Filters of each convolution of the base CNN.", at_least=1, at_most=1024)
    units: int = setting(None, f"Units of each attention layer (AttentionRNN's latent size t); default "
                         f"{ATTENTION_RNN_UNITS} for the AttentionRNN types (32 costs about 1.5x the step time, "
                         f"see docs/attention_rnn.md#speed), {OTHER_UNITS} for the others.", at_least=1, at_most=1024)
    hidden: int = setting(64, "Units of the head's hidden layer.", at_least=1, at_most=8192)
    batch_norm: bool = setting(True, "Batch normalisation after each attended stack and on the pooled "
                               "features (as Seo et al.'s PAN network).")
    dropout: float = setting(0.0, "Dropout on the pooled features before the head (PAN: 0.5).", at_least=0,
                             below=1)
    head_query: bool = setting(True, "Feed the query to the head too; --nohead_query is PAN's head, where the "
                               "query reaches the answer only through the masks (needs an attention).")
    mask_norm: bool = setting(False, "Divide each mask by its mean over locations before it multiplies the "
                              "features (not in the paper: a remedy for masks that drift shut).")
    batch_size: int = setting(32, "Batch size.", at_least=1, at_most=65536, flag="batch")
    epochs: int = setting(10, "Epochs to train at most.", at_least=1, flag="epoch")
    patience: int = setting(2, "Stop after this many epochs without a better validation accuracy (0: never).",
                            at_least=0)
    min_epochs: int = setting(5, "Never stop for --patience before this many epochs: every attention type "
                              "first sits on a noisy plateau near chance (MBG: 3-5 epochs).", at_least=0)
    minutes: float = setting(0.0, "Also stop after the epoch that passes this many minutes of training, "
                             "summed over sittings (0: no cap).", at_least=0)
    learning_rate: float = setting(1e-3, "Adam learning rate.", above=0, at_most=10, flag="lr")
    warmup_epochs: int = setting(0, "Train the first this many epochs at --warmup_lr, then at --lr (0: no "
                                 "warm-up).", at_least=0)
    warmup_learning_rate: float = setting(None, "Adam learning rate of the --warmup_epochs warm-up epochs.",
                                          above=0, at_most=10, flag="warmup_lr")
    clipnorm: float = setting(5.0, "Global gradient-norm clip.", above=0)
    train_size: int = setting(None, "Training query rows (default all 30,000; about 7 per image).", at_least=1)
    validation_size: int = setting(None, "Validation query rows (default all 10,000).", at_least=1)
    seed: int = setting(0, "Seed of the data and the initialisation.")

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

    def checks(self):
        """The rules that relate several fields (each field's own range is declared with it)."""
        return [
            ((self.warmup_epochs == 0) == (self.warmup_learning_rate is None), "warmup_learning_rate",
             "a rate in (0, 10] when warmup_epochs > 0, None when warmup_epochs is 0"),
            (self.head_query or self.attention != "none", "head_query",
             "True for attention none (the query has no other way in)"),
        ]

    def model_kwargs(self):
        return dict(attention=self.attention, filters=self.filters, units=self.units, hidden=self.hidden,
                    seed=self.seed, num_classes=NUM_ANSWERS[self.task], batch_norm=self.batch_norm,
                    dropout=self.dropout, head_query=self.head_query, mask_norm=self.mask_norm)

    @property
    def query_size(self):
        return QUERY_SIZE[self.task]
