"""Resolved RAM hyperparameters: per-data-set defaults from the papers, explicit values win."""

import dataclasses

from ram.model import REWARDS
from trainkit.run_dir import ConfigError, JsonConfig

MAX_GLIMPSES = 64  # the paper uses 2-8; far more only exhausts memory

# From the original TF repo's tables (center, translate) and the paper (clutter: 8 glimpses of
# 3 or 4 12x12 scales). unit_pixels for the cluttered sets keeps the translate ratio (26/60).
DATASET_DEFAULTS = {
    "center": dict(num_glimpses=6, patch_size=8, num_scales=1, unit_pixels=12.0),
    "translate": dict(num_glimpses=6, patch_size=12, num_scales=3, unit_pixels=26.0),
    "clutter": dict(num_glimpses=8, patch_size=12, num_scales=3, unit_pixels=26.0),
    "clutter100": dict(num_glimpses=8, patch_size=12, num_scales=4, unit_pixels=44.0),
}

# Test error (%) Mnih et al. 2014 report for these settings (Tables 1-2: 28x28 with 6 glimpses
# of 8x8, translated 60x60 with 6 glimpses, cluttered 60x60 and 100x100 with 8 glimpses).
PAPER_TEST_ERROR = {"center": 1.29, "translate": 1.22, "clutter": 4.04, "clutter100": 8.0}


@dataclasses.dataclass(frozen=True)
class RAMConfig(JsonConfig):
    """Everything needed to rebuild and retrain a RAM run (written as ``config.json``)."""

    dataset: str = "translate"
    num_glimpses: int = 6
    patch_size: int = 12
    num_scales: int = 3
    unit_pixels: float = 26.0
    std: float = 0.11
    std_schedule: str = "fixed"
    std_final: float = 0.05
    std_anneal_steps: int = 10_000
    detach_policy: bool = False
    location_activation: str = "clip"
    location_zero_init: bool = False
    core: str = "rnn"
    reinforce_weight: float = 0.01
    random_locations: bool = False
    batch_size: int = 128
    epochs: int = 10
    learning_rate: float = 1e-3
    decay_rate: float = 0.97
    decay_steps: int = 500
    min_learning_rate_ratio: float = 0.1
    clipnorm: float = 5.0
    mc_samples: int = 1
    train_paths: int = 1
    path_baseline: bool = False
    mean_path_weight: float = 0.0
    ema_momentum: float = 0.0
    reward: str = "correct"
    seed: int = 0

    @classmethod
    def for_dataset(cls, dataset, **overrides):
        """Defaults of ``dataset`` with every non-None override applied."""
        if dataset not in DATASET_DEFAULTS:
            raise ConfigError(f"unknown dataset {dataset!r}; valid: {', '.join(DATASET_DEFAULTS)}")
        values = dict(DATASET_DEFAULTS[dataset], dataset=dataset)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def model_kwargs(self):
        return dict(num_glimpses=self.num_glimpses, patch_size=self.patch_size, num_scales=self.num_scales,
                    unit_pixels=self.unit_pixels, std=self.std, core=self.core,
                    reinforce_weight=self.reinforce_weight, random_locations=self.random_locations,
                    mc_samples=self.mc_samples, seed=self.seed, std_schedule=self.std_schedule,
                    std_final=self.std_final, std_anneal_steps=self.std_anneal_steps,
                    detach_policy=self.detach_policy, location_activation=self.location_activation,
                    location_zero_init=self.location_zero_init, train_paths=self.train_paths,
                    path_baseline=self.path_baseline, mean_path_weight=self.mean_path_weight,
                    reward=self.reward)

    MODEL = "ram"
    # Fields that change the weights' shapes or meaning: a checkpoint is only valid for these.
    # ema_momentum: with it the optimizer keeps a moving average of every weight, which the
    # checkpoints hold and a run without it cannot resume.
    ARCHITECTURE = ("dataset", "num_glimpses", "patch_size", "num_scales", "unit_pixels", "core",
                    "random_locations", "std_schedule", "location_activation", "ema_momentum")
    LATER_ARCHITECTURE = ("std_schedule", "location_activation", "ema_momentum")

    def checks(self):
        """Ranges and names; sizes far beyond the paper's are refused before they exhaust memory."""
        return [
            (self.dataset in DATASET_DEFAULTS, "dataset", f"one of {', '.join(DATASET_DEFAULTS)}"),
            (1 <= self.num_glimpses <= MAX_GLIMPSES, "num_glimpses", f"1-{MAX_GLIMPSES}"),
            (1 <= self.patch_size <= 128, "patch_size", "1-128 pixels"),
            (1 <= self.num_scales <= 8, "num_scales", "1-8"),
            (0 < self.unit_pixels <= 1000, "unit_pixels", "in (0, 1000]"),
            (0 < self.std <= 10, "std", "in (0, 10]"),
            (self.std_schedule in ("fixed", "anneal", "learned"), "std_schedule", "fixed, anneal or learned"),
            (0 < self.std_final <= 10, "std_final", "in (0, 10]"),
            (self.std_anneal_steps >= 1, "std_anneal_steps", ">= 1"),
            (self.location_activation in ("clip", "tanh"), "location_activation", "clip or tanh"),
            (self.core in ("rnn", "lstm"), "core", "rnn or lstm"),
            (self.reinforce_weight >= 0, "reinforce_weight", ">= 0"),
            (1 <= self.batch_size <= 65536, "batch_size", "1-65536"),
            (self.epochs >= 1, "epochs", ">= 1"),
            (0 < self.learning_rate <= 10, "learning_rate", "in (0, 10]"),
            (0 < self.decay_rate <= 1, "decay_rate", "in (0, 1]"),
            (self.decay_steps >= 1, "decay_steps", ">= 1"),
            (0 <= self.min_learning_rate_ratio <= 1, "min_learning_rate_ratio", "in [0, 1]"),
            (self.clipnorm > 0, "clipnorm", "> 0"),
            (1 <= self.mc_samples <= 1000, "mc_samples", "1-1000"),
            (1 <= self.train_paths <= 64, "train_paths", "1-64"),
            (not self.path_baseline or self.train_paths >= 2, "path_baseline",
             "False unless train_paths >= 2 (it compares the paths of an image)"),
            (0 <= self.mean_path_weight <= 100, "mean_path_weight", "in [0, 100]"),
            (self.reward in REWARDS, "reward", " or ".join(REWARDS)),
            (0 <= self.ema_momentum < 1, "ema_momentum", "in [0, 1) (0: no weight averaging)"),
        ]
