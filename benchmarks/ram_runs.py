"""What the RAM benchmarks share: train a config under a wall-time budget (resumably), then
measure it the same way every time."""

import json
import os
import time

from benchmarks.results import commit, read_json, started_at_commit, write_json  # noqa: F401  (used as ram_runs.*)
from ram.config import PAPER_TEST_ERROR as PAPER_ERROR  # percent, Mnih et al. 2014

TARGET_ERROR = {"center": 1.3, "translate": 1.3, "clutter": 4.0, "clutter100": 8.0}


def train_and_measure(config, run_dir, minutes, mnist, mc_samples=10, limit=None, verbose=2,
                      steps_per_execution=None):
    """Trains ``config`` into ``run_dir`` for ``minutes`` of training time in all (a re-run
    continues a killed one), then measures its best checkpoint.

    Returns a dict: ``epochs``, ``minutes`` (training time over every sitting), ``val_error``,
    ``test_error_mean`` (mean path), ``test_error_mc`` (``mc_samples`` sampled paths),
    ``distances`` (pixels from each glimpse to the digit, mean path), in percent and pixels;
    ``commit``, the commit the run's first sitting started from (:func:`started_at_commit`).
    """
    from ram import training
    from ram.evaluation import glimpse_distances
    from trainkit import training_time

    started = time.monotonic()
    first_commit = started_at_commit(run_dir)
    history = training.train(config, run_dir, mnist=mnist, verbose=verbose, minutes=minutes, limit=limit,
                             steps_per_execution=steps_per_execution)
    if getattr(history, "nan_stopped", False):
        print(f"{run_dir}: stopped on a NaN loss; measuring its last good checkpoint", flush=True)
    seconds, epochs, _ = training_time(run_dir)
    with open(os.path.join(run_dir, "best.json")) as f:
        best = json.load(f)
    model, config = training.load_trained(run_dir, "best", mc_samples=1)
    error, _ = training.evaluate(model, config, "test", mnist=mnist, limit=limit)
    distances = glimpse_distances(model, config, "test", mnist=mnist, limit=limit)
    mc_model, mc_config = training.load_trained(run_dir, "best", mc_samples=mc_samples)
    mc_error, _ = training.evaluate(mc_model, mc_config, "test", mnist=mnist, limit=limit)
    row = dict(epochs=epochs, best_epoch=best["epoch"], minutes=round(seconds / 60.0, 1),
               val_error=round(100 * (1 - best["val_accuracy"]), 2), test_error_mean=round(error, 2),
               test_error_mc10=round(mc_error, 2), distances=[round(d, 2) for d in distances],
               commit=first_commit)
    print(f"{run_dir}: {row} (this sitting {(time.monotonic() - started) / 60:.1f} min)", flush=True)
    return row


def random_distances(config, mnist, limit=None):
    """Glimpse-to-digit distances of the random-location control (no training needed: its
    locations do not depend on the weights)."""
    import dataclasses

    from ram.evaluation import glimpse_distances
    from ram.training import build_model
    import data

    config = dataclasses.replace(config, random_locations=True)
    model = build_model(config, data.image_size(config.dataset))
    return [round(d, 2) for d in glimpse_distances(model, config, "test", mnist=mnist, limit=limit)]
