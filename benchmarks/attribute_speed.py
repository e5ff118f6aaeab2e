"""Training-step speed of the attribute network for each attention type, and what the paper's
protocol would cost on this machine.

    python -m benchmarks.attribute_speed [--batch 32] [--steps 10] [--attentions none,san,...]

Each model (:class:`attention_rnn.AttributeNetwork`, the build ``examples.attribute`` trains)
is timed with and without XLA on one fixed batch of 100x100 images (``train_on_batch`` after
two warm-up steps), all in one run, and keeps its faster setting. Every model is built once and
timed in ``--repeats`` interleaved rounds (NONE, SAN, ..., then NONE again, ...); each keeps the
fastest of its rounds' medians, so a burst of load on a shared host slows one round of every
model rather than all rounds of one, and the ratios to NONE move less between runs (each
round's ratio, timed seconds apart, is printed for ARNN and kept in every row as
``ratio_by_round``: its spread is the host's noise). Printed per
type: images/s, the step's cost relative to NONE (the same base CNN without attention), and the
projected hours per model for the protocol of Table 1 (``--train_rows`` x ``--epochs``, plus one validation
pass of ``--validation_rows`` per epoch at the forward-only cost, taken as a third of a step).
The issue's target: ARNN at most 4x NONE.

Beside the times, each model's forward multiply-adds per image, as TensorFlow's graph profiler
counts them (``float_operation``, halved), and their ratio to NONE's: the step ratio a
network would have if its ops ran as efficiently as the base CNN's convolutions. AttentionRNN
with 32 latent features (``--units 32``) has about 4x NONE's arithmetic, so a step ratio of 4x
at that size would need its per-diagonal matmuls to beat oneDNN's convolutions; at its default
16 it has about 2x.
"""

import time

from absl import app, flags, logging

from benchmarks import results as results_file
from examples.flag_checks import require_known

flags.DEFINE_list("attentions", ["none", "san", "nctx", "ctx", "arnn", "brnn"], "Attention types to time.")
flags.DEFINE_integer("batch", 32, "Batch size.", lower_bound=1)
flags.DEFINE_integer("units", None, "Units of each attention layer (AttentionRNN's latent size t); default: each "
                     "type's own (16 for the AttentionRNN types, 32 for the others).", lower_bound=1)
flags.DEFINE_integer("steps", 20, "Timed steps per setting and round (after two warm-up steps).", lower_bound=1)
flags.DEFINE_integer("repeats", 3, "Interleaved rounds of --steps per setting; the fastest round's median counts.",
                     lower_bound=1)
flags.DEFINE_enum("xla", "both", ["both", "on", "off"], "Time with XLA, without, or both (keep the faster).")
flags.DEFINE_integer("train_rows", 30_000, "Training query rows of the protocol.", lower_bound=1)
flags.DEFINE_integer("validation_rows", 10_000, "Validation query rows of the protocol.", lower_bound=0)
flags.DEFINE_integer("epochs", 10, "Epochs of the protocol.", lower_bound=1)
flags.DEFINE_string("results", "docs/results/attribute_speed.json", "Where the rows are written ('' for nowhere).")
FLAGS = flags.FLAGS


require_known("attentions", "attention_rnn.config:ATTENTIONS", "attention")


def step_timer(attention, jit, batch, units=None):
    """Build the training step of ``attention`` at ``batch`` (XLA iff ``jit``; ``units`` None: the
    type's default) and warm it up.

    Returns a function of ``steps`` giving the median seconds of that many further steps, so one
    model can be timed in several rounds between other models' rounds.
    """
    import numpy as np
    import tensorflow as tf

    from attention_rnn.config import AttributeConfig
    from attention_rnn.training import build_model

    model = build_model(AttributeConfig(attention=attention, batch_size=batch, units=units), jit_compile=jit)
    rng = np.random.default_rng(0)
    images = tf.constant(rng.uniform(size=(batch, 100, 100, 3)).astype(np.float32))
    queries = tf.one_hot(rng.integers(0, 10, batch), 10)
    answers = tf.constant(rng.integers(0, 5, batch).astype(np.int32))
    for _ in range(2):
        model.train_on_batch((images, queries), answers)

    def median_seconds(steps):
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            model.train_on_batch((images, queries), answers)
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    return median_seconds


def forward_macs(attention, units):
    """Forward multiply-adds of one 100x100 image through the attribute network of ``attention``."""
    import tensorflow as tf

    from attention_rnn.model import AttributeNetwork

    model = AttributeNetwork(attention, units=units)
    graph = tf.function(lambda images, queries: model((images, queries))).get_concrete_function(
        tf.TensorSpec([1, 100, 100, 3]), tf.TensorSpec([1, 10])).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"  # the profiler would print its whole report
    return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops / 2


def round_ratios(rounds, attention, base, jit, base_jit):
    """``attention``'s step time over ``base``'s, round by round (each pair timed seconds apart)."""
    return [t / b for t, b in zip(rounds[attention, jit], rounds[base, base_jit])]


def main(_):
    import numpy as np

    from attention_rnn.config import default_units

    logging.set_verbosity(logging.WARNING)
    settings = {"both": (False, True), "on": (True,), "off": (False,)}[FLAGS.xla]
    timers = {(attention, jit): step_timer(attention, jit, FLAGS.batch, FLAGS.units)
              for attention in FLAGS.attentions for jit in settings}
    rounds = {key: [] for key in timers}
    for _ in range(FLAGS.repeats):
        for key, timer in timers.items():
            rounds[key].append(timer(FLAGS.steps))
    rows = []
    for attention in FLAGS.attentions:
        units = FLAGS.units or default_units(attention)
        timed = {jit: min(rounds[attention, jit]) for jit in settings}
        jit = min(timed, key=timed.get)
        rows.append(dict(attention=attention, units=units, seconds=timed[jit], jit=jit, timed=timed,
                         forward_macs=forward_macs(attention, units)))
        print(f"{attention}: " + ", ".join(
            f"{'XLA' if j else 'no XLA'} {s * 1000:.0f} ms/step (rounds: "
            + " ".join(f"{t * 1000:.0f}" for t in rounds[attention, j]) + ")" for j, s in timed.items()), flush=True)
    base = next((r["seconds"] for r in rows if r["attention"] == "none"), None)
    none_jit = next((r["jit"] for r in rows if r["attention"] == "none"), None)
    base_macs = next((r["forward_macs"] for r in rows if r["attention"] == "none"), None)
    for r in rows:
        r["ratio_by_round"] = round_ratios(rounds, r["attention"], "none", r["jit"], none_jit) if base else None
    steps_per_epoch = FLAGS.train_rows / FLAGS.batch + FLAGS.validation_rows / FLAGS.batch / 3
    print(f"\nbatch {FLAGS.batch}, fastest of {FLAGS.repeats} rounds of {FLAGS.steps} "
          f"steps; protocol {FLAGS.train_rows:,} training + {FLAGS.validation_rows:,} validation query rows x "
          f"{FLAGS.epochs} epochs")
    header = ("| attention | units | setting | images/s | step cost / NONE | forward MMAC / image | MACs / NONE "
              "| hours per model |")
    print(header + "\n" + results_file.separator(header))
    for r in rows:
        ratio = f"{r['seconds'] / base:.2f}x" if base else "-"
        hours = r["seconds"] * steps_per_epoch * FLAGS.epochs / 3600
        macs = f"{r['forward_macs'] / base_macs:.2f}x" if base_macs else "-"
        units = "-" if r["attention"] == "none" else r["units"]
        print(f"| {r['attention']} | {units} | {'XLA' if r['jit'] else 'no XLA'} | {FLAGS.batch / r['seconds']:,.1f} | {ratio} "
              f"| {r['forward_macs'] / 1e6:.1f} | {macs} | {hours:.2f} |")
    arnn = next((r for r in rows if r["attention"] == "arnn"), None)
    if base and arnn:
        verdict = "met" if arnn["seconds"] <= 4 * base else "NOT met"
        print(f"ARNN ({arnn['units']} units) / NONE step cost: {arnn['seconds'] / base:.2f}x (target <= 4x: {verdict})")
        by_round = arnn["ratio_by_round"]
        print("  round by round: " + " ".join(f"{x:.2f}x" for x in by_round)
              + f" (median {np.median(by_round):.2f}x): how far the host's load moved the ratio")
    if FLAGS.results:
        for r in rows:
            r.update(images_per_s=FLAGS.batch / r["seconds"], ratio_to_none=r["seconds"] / base if base else None,
                     none_images_per_s=FLAGS.batch / base if base else None,  # NONE's row may be replaced later
                     macs_ratio_to_none=r["forward_macs"] / base_macs if base_macs else None,
                     hours_per_model=r["seconds"] * steps_per_epoch * FLAGS.epochs / 3600, batch=FLAGS.batch,
                     repeats=FLAGS.repeats, steps=FLAGS.steps,
                     timed={"xla" if j else "no_xla": s for j, s in r["timed"].items()},
                     commit=results_file.commit())
            r["setting"] = "xla" if r.pop("jit") else "no_xla"
        key = ("attention", "units", "batch")
        merged = {tuple(r.get(k) for k in key): r for r in results_file.read_json(FLAGS.results)}
        merged.update({tuple(r[k] for k in key): r for r in rows})
        results_file.write_json(FLAGS.results, list(merged.values()))
        print(f"rows written to {FLAGS.results}")


if __name__ == "__main__":
    app.run(main)
