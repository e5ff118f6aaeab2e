"""Trains RAM on translated 60x60 MNIST for a wall-time budget and prints test error.

    python -m benchmarks.ram_accuracy --minutes 60          # learned policy, then random glimpses
    python -m benchmarks.ram_accuracy --minutes 60 --evaluate_only   # re-evaluate those runs

Translate config (6 glimpses of 3 x 12x12, pixel 26, batch 128). The same budget trains a
control whose glimpse locations are uniformly random; the learned policy must beat it clearly.
Test error is printed for the mean path (the CLI's default) and averaged over
``--mc_samples`` sampled paths (the policy was trained on sampled paths).
Targets: <= 1.5% test error within 60 minutes on a 2-core machine (paper: 1.22%).
"""

import json
import os
import time

from absl import app, flags, logging

flags.DEFINE_float("minutes", 60.0, "Training wall-time budget per policy.")
flags.DEFINE_list("policies", ["learned", "random"], "Which policies to train: learned, random.")
flags.DEFINE_string("model_dir", "runs/bench_accuracy", "Parent directory of the two runs.")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_integer("mc_samples", 10, "Sampled paths averaged for the Monte Carlo test error.")
flags.DEFINE_bool("evaluate_only", False, "Skip training; evaluate the runs already in --model_dir.")
FLAGS = flags.FLAGS


def main(_):
    logging.set_verbosity(logging.WARNING)
    import data
    from ram import training
    from ram.config import RAMConfig

    mnist = data.load_mnist()
    rows = []
    for policy in FLAGS.policies:
        config = RAMConfig.for_dataset("translate", seed=FLAGS.seed, minutes=FLAGS.minutes,
                                       random_locations=policy == "random")
        run_dir = os.path.join(FLAGS.model_dir, f"{policy}_{int(FLAGS.minutes)}min_seed{FLAGS.seed}")
        wall = float("nan")
        if not FLAGS.evaluate_only:
            print(f"== {policy} policy: training for {FLAGS.minutes:g} minutes into {run_dir}", flush=True)
            start = time.monotonic()
            training.train(config, run_dir, mnist=mnist, verbose=2)
            wall = time.monotonic() - start
        with open(os.path.join(run_dir, "best.json")) as f:
            best = json.load(f)
        model, config = training.load_trained(run_dir, "best")
        error = training.evaluate(model, config, "test", mnist=mnist)["error"]
        model, config = training.load_trained(run_dir, "best", mc_samples=FLAGS.mc_samples)
        mc_error = training.evaluate(model, config, "test", mnist=mnist)["error"]
        rows.append((policy, best["epoch"], wall, 100 * (1 - best["val_accuracy"]), error, mc_error))
        print(f"{policy}: best epoch {best['epoch']}, {wall / 60:.1f} min, validation error "
              f"{100 * (1 - best['val_accuracy']):.2f}%, test error {error:.2f}% (mean path), "
              f"{mc_error:.2f}% ({FLAGS.mc_samples} sampled paths)", flush=True)
    print(f"\n{'policy':<8} {'best epoch':>10} {'minutes':>8} {'val err %':>10} {'test err %':>11} "
          f"{'test err % (MC ' + str(FLAGS.mc_samples) + ')':>18}")
    for policy, epoch, wall, val_error, error, mc_error in rows:
        print(f"{policy:<8} {epoch:>10} {wall / 60:>8.1f} {val_error:>10.2f} {error:>11.2f} {mc_error:>18.2f}")

if __name__ == "__main__":
    app.run(main)
