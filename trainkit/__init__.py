"""The run harness RAM, CRAM and AttentionRNN train through (:mod:`trainkit.harness`: fit loop,
pictures, reload, export), with its run directories, configs, checkpoints, and the callbacks
that make a run safe to kill, resume and budget."""

from trainkit.callbacks import (Checkpoints, SafeBackup, StopOnNaN, StopWhenStale, TimeBudget, budget_spent,
                                epochs_backed_up, epochs_since_best, patience_spent,
                                training_time)
from trainkit.run_dir import (BEST, CONFIG_FILE, LATEST, RUN_FILE, ConfigError, JsonConfig, RunError,
                              atomic_write_text, build_optimizers, check_output_dir, checkpoint_path, load_config, load_weights,
                              prepare_run_dir, refuse_nonempty_dir)

__all__ = ["BEST", "CONFIG_FILE", "RUN_FILE", "Checkpoints", "ConfigError", "JsonConfig", "LATEST", "RunError",
           "SafeBackup", "StopOnNaN", "StopWhenStale",
           "TimeBudget", "atomic_write_text", "build_optimizers", "budget_spent", "check_output_dir", "checkpoint_path",
           "epochs_backed_up", "epochs_since_best", "patience_spent", "load_config", "load_weights", "prepare_run_dir", "refuse_nonempty_dir",
           "training_time"]
