"""Trains RAM on translated 60x60 MNIST for a wall-time budget and prints test error.

    python -m benchmarks.ram_accuracy --minutes 60          # learned policy, then random glimpses

Translate config (6 glimpses of 3 x 12x12, pixel 26, batch 128). The same budget trains a
control whose glimpse locations are uniformly random; the learned policy must beat it clearly.
Targets: <= 1.5% test error within 60 minutes on a 2-core machine (paper: 1.22%).
"""

import os
import time

from absl import app, flags, logging

flags.DEFINE_float("minutes", 60.0, "Training wall-time budget per policy.")
flags.DEFINE_list("policies", ["learned", "random"], "Which policies to train: learned, random.")
flags.DEFINE_string("model_dir", "runs/bench_accuracy", "Parent directory of the two runs.")
flags.DEFINE_integer("seed", 0, "Seed.")
FLAGS = flags.FLAGS


def main(_):
    logging.set_verbosity(logging.WARNING)
    import data
    from ram import training
    from ram.config import RAMConfig

    mnist = data.load_mnist()
    rows = []
    for policy in FLAGS.policies:
        config = RAMConfig.for_dataset("translate", epochs=100_000, seed=FLAGS.seed,
                                       random_locations=policy == "random")
        run_dir = os.path.join(FLAGS.model_dir, f"{policy}_{int(FLAGS.minutes)}min_seed{FLAGS.seed}")
        print(f"== {policy} policy: training for {FLAGS.minutes:g} minutes into {run_dir}", flush=True)
        start = time.monotonic()
        history = training.train(config, run_dir, mnist=mnist, verbose=2, minutes=FLAGS.minutes)
        wall = time.monotonic() - start
        model, config = training.load_trained(run_dir, "best")
        error, _ = training.evaluate(model, config, "test", mnist=mnist)
        epochs = len(history.history.get("loss", []))
        best_val = max(history.history.get("val_accuracy", [float("nan")]))
        rows.append((policy, epochs, wall, 100 * (1 - best_val), error))
        print(f"{policy}: {epochs} epochs this run, {wall / 60:.1f} min, best validation error "
              f"{100 * (1 - best_val):.2f}%, test error {error:.2f}%", flush=True)
    print(f"\n{'policy':<8} {'epochs':>6} {'minutes':>8} {'val err %':>10} {'test err %':>11}")
    for policy, epochs, wall, val_error, error in rows:
        print(f"{policy:<8} {epochs:>6} {wall / 60:>8.1f} {val_error:>10.2f} {error:>11.2f}")


if __name__ == "__main__":
    app.run(main)
