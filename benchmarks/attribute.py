"""The attribute benchmark (AttentionRNN, Table 2): accuracy by scale bin and mask correctness
of each attention type on MREF / MDIST / MBG, at an equal budget (same data, same epochs).

    python -m benchmarks.attribute                                   # the full protocol (slow on CPU)
    python -m benchmarks.attribute --datasets mdist --attentions san,nctx,ctx,arnn \\
        --train_size 5000 --epochs 3 --test_size 2000               # what fits in ~20 CPU minutes

Paper (MBG, Table 2): mask correctness SAN 0.15, -CTX 0.28, CTX 0.31, ARNN 0.42, and ARNN ahead
of CTX ahead of -CTX at every scale. MBG offline uses the labelled stand-in backgrounds. Each
run lives in ``--model_dir/<dataset>_<attention>``; the table is also written to
``results.json`` there. Rerunning resumes or reuses finished runs (``--evaluate_only``).
"""

import json
import os
import time

from absl import app, flags, logging

flags.DEFINE_list("datasets", ["mref", "mdist", "mbg"], "Data sets.")
flags.DEFINE_list("attentions", ["san", "nctx", "ctx", "arnn"], "Attention types (see examples.attribute).")
flags.DEFINE_integer("train_size", None, "Training query rows (default all 30,000; about 7 per image).", lower_bound=1)
flags.DEFINE_integer("validation_size", 1000, "Validation query rows.", lower_bound=1)
flags.DEFINE_integer("test_size", None, "Test query rows (default all 10,000).", lower_bound=1)
flags.DEFINE_integer("epochs", 10, "Epochs per run (the equal budget).", lower_bound=1)
flags.DEFINE_integer("batch", 32, "Batch size.", lower_bound=1)
flags.DEFINE_float("minutes", None, "Optional wall-time cap per run (then the budget is no longer equal).")
flags.DEFINE_string("model_dir", "runs/bench_attribute", "Parent directory of the runs.")
flags.DEFINE_string("cache_dir", "runs/attribute_data", "Rendered-split cache.")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_bool("evaluate_only", False, "Skip training; evaluate the runs already in --model_dir.")
FLAGS = flags.FLAGS


def main(_):
    logging.set_verbosity(logging.WARNING)
    import data
    from attention_rnn import training
    from attention_rnn.config import AttributeConfig

    mnist = data.load_mnist()
    rows = []
    for dataset in FLAGS.datasets:
        for attention in FLAGS.attentions:
            config = AttributeConfig(dataset=dataset, attention=attention, batch_size=FLAGS.batch,
                                     epochs=FLAGS.epochs, train_size=FLAGS.train_size,
                                     validation_size=FLAGS.validation_size, seed=FLAGS.seed)
            run_dir = os.path.join(FLAGS.model_dir, f"{dataset}_{attention}")
            seconds = None
            if not FLAGS.evaluate_only:
                print(f"\n== {dataset} / {attention}", flush=True)
                start = time.monotonic()
                history = training.train(config, run_dir, mnist=mnist, cache_dir=FLAGS.cache_dir, verbose=2,
                                         minutes=FLAGS.minutes)
                seconds = time.monotonic() - start
                epochs_run = len(history.history.get("loss", []))
            else:
                epochs_run = None
            model, config = training.load_trained(run_dir, "best")
            results = training.evaluate(model, config, "test", size=FLAGS.test_size, mnist=mnist,
                                        cache_dir=FLAGS.cache_dir)
            results.update(dataset=dataset, attention=attention, train_seconds=seconds, epochs_this_call=epochs_run)
            print(training.format_results(results, f"{dataset} / {attention}")
                  + (f"\n  training wall time {seconds:.0f} s" if seconds else ""), flush=True)
            rows.append(results)
    bins = training.scale_bin_names()
    print("\nmask correctness (accuracy) by target scale; test set"
          + (f" of {FLAGS.test_size}" if FLAGS.test_size else "")
          + f"; train {FLAGS.train_size or 30000} query rows x {FLAGS.epochs} epochs")
    print(f"{'data':6} {'attention':10} {'overall':>15} " + " ".join(f"{b:>15}" for b in bins) + "   train s")
    for r in rows:
        def cell(c, a):
            return f"{'-' if c is None else f'{c:.3f}':>6} ({a:.3f})" if a is not None else f"{'-':>15}"
        print(f"{r['dataset']:6} {r['attention']:10} {cell(r['correctness'], r['accuracy']):>15} "
              + " ".join(f"{cell(r['by_scale'][b]['correctness'], r['by_scale'][b]['accuracy']):>15}" for b in bins)
              + (f"   {r['train_seconds']:.0f}" if r["train_seconds"] else ""))
    notes = {r["note"] for r in rows if r["note"]}
    for note in notes:
        print(note)
    os.makedirs(FLAGS.model_dir, exist_ok=True)
    with open(os.path.join(FLAGS.model_dir, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    app.run(main)
