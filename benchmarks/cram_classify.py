"""Clued classification on cluttered 60x60 MNIST: CRAM with the saliency clue, CRAM without a
clue, and RAM, with the same number of glimpses and the same budget (images x epochs).

    python -m benchmarks.cram_classify --epochs 10                 # full training split
    python -m benchmarks.cram_classify --epochs 4 --limit 20000    # what fits in ~15 CPU minutes

Prints each model's test error and the first epoch whose validation error is <= 5% (or "-").
Target: CRAM with the clue below RAM. The paper left these results as work in progress.
``--models cram_saliency,cram_none,ram,ram_time`` adds RAM at equal *wall time* (RAM's step
is far cheaper, so it runs many more epochs in the same time).

Each model's run lives in ``--model_dir/<model>[_glimpses<n>][_limit<n>][_seed<n>]`` (the
parts that differ from the defaults) and resumes when the benchmark is rerun.
"""

import os
import time

from absl import app, flags, logging

from benchmarks.results import run_name

flags.DEFINE_integer("epochs", 10, "Epochs per model (the equal budget).", lower_bound=1)
flags.DEFINE_integer("limit", None, "First N images of each split (default all).", lower_bound=1)
flags.DEFINE_integer("glimpses", None, "Glimpses for every model (default: each model's for clutter, 8).",
                     lower_bound=1)
flags.DEFINE_list("models", ["cram_saliency", "cram_none", "ram"],
                  "Which models to train: cram_saliency, cram_oracle, cram_none, ram, and ram_time (RAM "
                  "trained for the wall time the first CRAM model took, with up to 1,000 epochs).")
flags.DEFINE_string("model_dir", "runs/bench_cram_classify", "Parent directory of the runs.")
flags.DEFINE_integer("seed", 0, "Seed.")
FLAGS = flags.FLAGS


def epochs_to(history, error=5.0):
    for k, accuracy in enumerate(history.history.get("val_accuracy", [])):
        if 100.0 * (1.0 - accuracy) <= error:
            return k + 1
    return None


def main(_):
    logging.set_verbosity(logging.WARNING)
    import data
    from cram import training as cram_training
    from cram.config import CRAMConfig
    from ram import training as ram_training
    from ram.config import RAMConfig

    mnist = data.load_mnist()
    rows = []
    for name in FLAGS.models:
        run_dir = os.path.join(FLAGS.model_dir, run_name(name, glimpses=(FLAGS.glimpses, None), limit=(FLAGS.limit, None),
                                                         seed=(FLAGS.seed, 0)))
        print(f"\n== {name}", flush=True)
        start = time.monotonic()
        if name in ("ram", "ram_time"):
            timed = name == "ram_time"
            if timed and not rows:
                raise SystemExit("ram_time needs a CRAM model before it in --models (its wall time is the budget)")
            config = RAMConfig.for_dataset("clutter", num_glimpses=FLAGS.glimpses, seed=FLAGS.seed,
                                           epochs=1000 if timed else FLAGS.epochs,
                                           minutes=rows[0][4] / 60 if timed else 0.0)
            history = ram_training.train(config, run_dir, mnist=mnist, limit=FLAGS.limit, verbose=2)
            model, config = ram_training.load_trained(run_dir)
            error = ram_training.evaluate(model, config, "test", mnist=mnist, limit=FLAGS.limit)["error"]
        else:
            clue = name.split("_", 1)[1]
            config = CRAMConfig.for_task("classify", dataset="clutter", clue=clue, num_glimpses=FLAGS.glimpses,
                                         epochs=FLAGS.epochs, seed=FLAGS.seed)
            history = cram_training.train(config, run_dir, mnist=mnist, limit=FLAGS.limit, verbose=2)
            model, config = cram_training.load_trained(run_dir)
            error = cram_training.evaluate(model, config, "test", mnist=mnist, limit=FLAGS.limit)["error"]
        seconds = time.monotonic() - start
        rows.append((name, error, epochs_to(history), len(history.history.get("loss", [])), seconds))
        print(f"{name}: test error {error:.2f}%", flush=True)
    print(f"\nclutter 60x60, {FLAGS.glimpses} glimpses, {FLAGS.epochs} epochs of "
          f"{FLAGS.limit or 50000} training images")
    print(f"{'model':15} {'test error':>10} {'epochs to 5%':>13} {'epochs run':>10} {'wall s':>8}")
    for name, error, reach, run, seconds in rows:
        print(f"{name:15} {error:9.2f}% {reach or '-':>13} {run:>10} {seconds:8.0f}")


if __name__ == "__main__":
    app.run(main)
