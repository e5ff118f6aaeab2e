"""What RAM, CRAM and AttentionRNN training share: run directories, configs, checkpoints, and
the callbacks that make a run safe to kill, resume and budget."""

from trainkit.callbacks import Checkpoints, SafeBackup, StopOnNaN, TimeBudget, epochs_backed_up
from trainkit.run_dir import (BEST, CONFIG_FILE, LATEST, JsonConfig, RunError, atomic_write_text,
                              checkpoint_path, load_config, load_weights, prepare_run_dir,
                              refuse_nonempty_dir)

__all__ = ["BEST", "CONFIG_FILE", "Checkpoints", "JsonConfig", "LATEST", "RunError", "SafeBackup", "StopOnNaN",
           "TimeBudget", "atomic_write_text", "checkpoint_path", "epochs_backed_up", "load_config",
           "load_weights", "prepare_run_dir", "refuse_nonempty_dir"]
