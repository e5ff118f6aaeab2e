r"""Ships a RAM run as the pretrained model of its data set (``ram/pretrained/<task>``), with the
figures its results row holds, after checking that the weights still give them.

    python -m benchmarks.ship_pretrained --run runs/ram_reproduce/translate_90min_seed0

The run must have a row in ``--results`` (same task, config and seed; written by
``benchmarks.ram_reproduce``). Its best checkpoint is evaluated on the test set with the mean
path; if that differs from the row's ``test_error_mean`` by more than ``--tolerance`` points the
model is not shipped. Only the model's weights are shipped (the averaged ones for a run with
weight averaging, whose shipped config then says ``ema_momentum`` 0), not the optimizer's slots:
a third of the checkpoint's size. ``python -m examples.mnist --eval --pretrained --dataset TASK`` then prints
both figures.
"""

import dataclasses
import json
import os
import tempfile

from absl import app, flags, logging

from benchmarks import ram_runs

flags.DEFINE_string("run", None, "The run directory to ship.", required=True)
flags.DEFINE_string("results", "docs/results/ram_reproduce.json", "The results file holding the run's row.")
flags.DEFINE_float("tolerance", 0.05, "Largest difference, in points of test error, between the row and a "
                   "fresh evaluation of the weights.", lower_bound=0)
FLAGS = flags.FLAGS


def row_of(config, rows):
    """The results row of a run of ``config`` (same task, recipe and seed), or None."""
    key = ram_runs.row_key(dict(task=config.dataset, seed=config.seed, config=ram_runs.resolved_config(config)))
    matches = [r for r in rows if ram_runs.row_key(r) == key and not r.get("continued_from")]
    return matches[-1] if matches else None


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    import data
    from ram import training
    from ram.config import RAMConfig
    from trainkit import load_config, pretrained

    config = load_config(FLAGS.run, RAMConfig)
    row = row_of(config, ram_runs.read_json(FLAGS.results))
    if row is None:
        raise app.UsageError(f"{FLAGS.results} has no row of the run {FLAGS.run} ({config.dataset}, seed "
                             f"{config.seed}, this config); run benchmarks.ram_reproduce on it first")
    model, config = training.load_trained(FLAGS.run, "best", mc_samples=1)
    error = training.evaluate(model, config, "test", mnist=data.load_mnist())["error"]
    print(f"{FLAGS.run}: test error {error:.2f}% (mean path) against {row['test_error_mean']:.2f}% in its row")
    if abs(error - row["test_error_mean"]) > FLAGS.tolerance:
        raise app.UsageError(f"the weights give {error:.2f}%, not the row's {row['test_error_mean']:.2f}%: "
                             "not shipped")
    import tensorflow as tf

    from ram.model import RecurrentAttentionModel

    plain = RecurrentAttentionModel(**config.model_kwargs())  # no optimizer: its slots stay behind
    plain(tf.zeros([1, data.image_size(config.dataset), data.image_size(config.dataset), 1]))
    plain.set_weights(model.get_weights())
    # The averages are the weights now; the budget is the row's (a run from before the field records none).
    config = dataclasses.replace(config, ema_momentum=0.0, minutes=float(row.get("minutes_budget") or config.minutes))
    figures = {k: row[k] for k in ("test_error_mean", "test_error_mc10", "val_error") if k in row}
    source = dict(results=FLAGS.results, task=row["task"], variant=row.get("variant"), seed=ram_runs.row_seed(row),
                  minutes_budget=row.get("minutes_budget"), epochs=row["epochs"], commit=row["commit"],
                  run=os.path.basename(os.path.normpath(FLAGS.run)))
    with tempfile.TemporaryDirectory() as scratch:
        weights = os.path.join(scratch, "model.weights.h5")
        plain.save_weights(weights)
        shipped = pretrained.ship("ram", config.dataset, config, weights, figures, source)
    print(json.dumps({k: shipped[k] for k in ("name", "sha256", "bytes", "figures")}, indent=1))


if __name__ == "__main__":
    app.run(main)
