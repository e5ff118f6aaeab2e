"""Training and evaluating the attribute network (MREF / MDIST / MBG): fit with checkpoints,
resume and TensorBoard; accuracy by scale bin and mask correctness; prediction pictures."""

import functools

import keras
import numpy as np
import tensorflow as tf

import data
from attention_rnn import diagnostics, visualize
from attention_rnn.config import AttributeConfig
from attention_rnn.model import AttributeNetwork, combined_mask, mask_correctness, target_box
from data.attributes import (NUM_ANSWERS, QUERY_SIZE, SCALE_BINS, SIZE, answer_name, background_label,
                             make_attribute_dataset, query_name)
from trainkit import build_optimizers, harness


# Whether each attention type's train step is compiled with XLA: the faster setting measured by
# benchmarks/attribute_speed.py (see docs/attention_rnn.md).
XLA_BY_ATTENTION = {}


def build_model(config, jit_compile=None):
    """A compiled, built :class:`AttributeNetwork`: Adam with clipped gradients, cross-entropy
    on the colour logits, accuracy. ``jit_compile`` None takes ``XLA_BY_ATTENTION`` (default
    off)."""
    model = AttributeNetwork(**config.model_kwargs())
    if jit_compile is None:
        jit_compile = XLA_BY_ATTENTION.get(config.attention, False)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(config), global_clipnorm=config.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  jit_compile=jit_compile)
    model((tf.zeros([1, SIZE, SIZE, 3]), tf.zeros([1, config.query_size])))
    build_optimizers(model)  # now, not inside the first trace (which would then run twice)
    return model


def learning_rate(config):
    """Adam's learning rate for ``config``: ``config.learning_rate``, or, with a warm-up, a
    schedule that holds ``warmup_learning_rate`` for the first ``warmup_epochs`` epochs of
    optimizer steps and ``learning_rate`` after. It is keyed on the optimizer's step count,
    which the checkpoints keep, so a resumed run picks up the rate where it stopped."""
    if not config.warmup_epochs:
        return config.learning_rate
    steps = harness.steps_per_epoch(config.train_size or data.attributes.SPLIT_SIZES["train"], config.batch_size)
    # The schedule holds values[0] while step <= boundary, and update n reads step n (0-based):
    # warmup_epochs * steps updates at the warm-up rate.
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [config.warmup_epochs * steps - 1], [config.warmup_learning_rate, config.learning_rate])


def data_note(config, backgrounds=None):
    """The line that must accompany MBG results: which backgrounds they were made with."""
    return f"MBG backgrounds: {background_label(backgrounds)}" if config.dataset == "mbg" else None


def dataset(config, split, batch_size=None, mnist=None, backgrounds=None, cache_dir=None, **kwargs):
    size = {"train": config.train_size, "validation": config.validation_size}.get(split, kwargs.pop("size", None))
    return make_attribute_dataset(config.dataset, split, batch_size or config.batch_size, seed=config.seed,
                                  mnist=mnist, size=size, backgrounds=backgrounds, cache_dir=cache_dir,
                                  verbose=True, task=config.task, **kwargs)


def mask_pictures(inputs, answers, note=None, count=4, task="attribute"):
    """``draw(model)`` for :class:`trainkit.harness.PictureLogger`: the attention masks of the
    first ``count`` examples of ``inputs = (images, queries)``; nothing for ``attention="none"``."""
    images, queries, answers = inputs[0][:count], inputs[1][:count], answers[:count].numpy()

    def draw(model):
        if model.attention_kind == "none":
            return []
        logits, masks = model((images, queries), return_masks=True)
        return [visualize.attention_panel(images[b].numpy(), int(np.argmax(queries[b])), int(np.argmax(logits[b])),
                                          int(answers[b]), [m[b, ..., 0].numpy() for m in masks],
                                          source_note=note, task=task)
                for b in range(len(answers))]
    return draw


def train(config, model_dir, mnist=None, backgrounds=None, cache_dir=None, verbose="auto", strategy=None,
          backup_steps=None):
    """Trains (or resumes) the attribute run in ``model_dir``; returns the Keras ``History``.

    ``config.minutes`` (0: none): stop after the epoch that passes this much training time (over
    all sittings). ``config.patience`` (0: none): stop once this many epochs pass without a better
    validation accuracy (over all sittings; :class:`trainkit.StopWhenStale`), but never before
    ``config.min_epochs`` epochs. ``backup_steps``: back up for resumption every this many steps
    (default: every epoch).
    Under a ``strategy`` (see :mod:`trainkit.distribute`) ``config.batch_size`` is the global
    batch and only the chief worker writes the run's files.

    Validation every epoch; ``best``/``latest`` checkpoints and ``config.json`` in
    ``model_dir``; TensorBoard in ``model_dir/logs`` (loss, accuracy, learning rate, masks); a
    backup in ``model_dir/backup`` from which a killed run resumes at its last epoch, reading
    the same data passes as an uninterrupted run.
    """
    run = harness.open_run(model_dir, config, strategy)
    steps = harness.steps_per_epoch(config.train_size or data.attributes.SPLIT_SIZES["train"], config.batch_size)
    mnist = mnist if mnist is not None else data.load_mnist()
    train_ds = dataset(config, "train", mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir,
                       first_pass=run.first_pass)
    val_ds = dataset(config, "validation", mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir)
    with run.strategy.scope():
        model = build_model(config, jit_compile=None if run.single_device else False)
    pictures = None
    if run.chief:
        pictures = (mask_pictures(*next(iter(val_ds)), note=data_note(config, backgrounds), task=config.task),
                    "attention_masks", "masks")
    return harness.fit(run, model, train_ds, val_ds, epochs=config.epochs, steps=steps,
                       minutes=config.minutes or None, verbose=verbose, pictures=pictures,
                       patience=config.patience or None, min_epochs=config.min_epochs, backup_steps=backup_steps)


def load_trained(model_dir, which="best"):
    """``(model, config)`` of a run directory, with the ``best``/``latest``/given checkpoint."""
    return harness.load_run(model_dir, AttributeConfig, build_model, which)


def load_pretrained(name):
    """``(model, config)`` of the shipped model ``name`` (``<dataset>_<attention>``, e.g.
    ``mref_arnn``), its checksum checked before loading (:mod:`trainkit.pretrained`)."""
    model, config, _ = harness.load_pretrained("attention_rnn", name, AttributeConfig, build_model)
    return model, config


def scale_bin_names():
    return [f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(SCALE_BINS[:-1], SCALE_BINS[1:])]


def evaluate(model, config, split="test", size=None, mnist=None, backgrounds=None, cache_dir=None,
             batch_size=50):
    """Accuracy (overall and by the target's scale bin) and mask correctness on a split.

    Mask correctness is the fraction of the combined mask's mass (every attended layer's mask
    bilinearly upsampled to 100x100, then multiplied, Section 4.1) inside a region, averaged over
    query rows, in two versions: ``correctness`` counts the target digit's ink (alpha > 0.5),
    ``correctness_box`` its ink's bounding box, the "region of interest" of Liu et al.'s metric
    that the paper's Table 2 reports. Both None for ``attention="none"``. To read them:
    ``box_share``, the box's share of the image, is what a uniform mask would score, and
    ``layer_correctness_box`` gives each attended layer's mask alone (upsampled), which shows
    which layers select the target and which do not. ``by_answer`` and ``by_query`` tell a model
    that answers everything a little worse from one that fails one kind of question outright
    (on the inverse task, one colour: its rows then all get one default answer).

    Returns:
      dict ``accuracy``, ``correctness``, ``correctness_box``, ``box_share``,
      ``layer_correctness_box`` (a list, one per attended layer; empty for ``"none"``),
      ``count``, ``by_scale`` (bin name -> dict ``accuracy``, ``correctness``,
      ``correctness_box``, ``count``), ``by_answer`` (one dict per answer class, in class order:
      ``count``, ``accuracy`` (None without rows), ``confused_with`` (the most frequent wrong
      prediction for that class, None when there is none) and ``confused_share`` (its share of
      the class's rows)), ``by_query`` (the same per query class: digit, or colour for the
      inverse task), ``task`` and ``note`` (the MBG backgrounds label or None).
    """
    ds = dataset(config, split, batch_size, mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir,
                 with_info=True, size=size)

    @tf.function
    def step(images, queries, masks):
        logits, layer_masks = model((images, queries), return_masks=True)
        correct = tf.cast(tf.argmax(logits, -1, output_type=tf.int32), tf.int32)
        box = target_box(masks)
        area = tf.reduce_mean(box, axis=[1, 2, 3])
        if layer_masks:
            upsampled = [combined_mask([m], SIZE) for m in layer_masks]  # each layer resized once
            mask = functools.reduce(tf.multiply, upsampled)  # = combined_mask(layer_masks, SIZE)
            per_layer = tf.stack([mask_correctness(up, box) for up in upsampled], axis=1)
            return correct, mask_correctness(mask, masks), mask_correctness(mask, box), per_layer, area
        missing = tf.fill(tf.shape(correct), np.nan)
        return correct, missing, missing, tf.zeros([tf.shape(correct)[0], 0]), area

    predictions, truths, asked, shares, box_shares, layer_shares, areas, scales = [], [], [], [], [], [], [], []
    for (images, queries, scale, masks), answers in ds:
        predicted, share, box_share, per_layer, area = step(images, queries, masks)
        predictions.append(predicted.numpy())
        asked.append(np.argmax(queries.numpy(), axis=-1))
        truths.append(answers.numpy())
        shares.append(share.numpy())
        box_shares.append(box_share.numpy())
        layer_shares.append(per_layer.numpy())
        areas.append(area.numpy())
        scales.append(scale.numpy())
    predictions, truths, asked, shares, box_shares, layer_shares, areas, scales = map(
        np.concatenate, (predictions, truths, asked, shares, box_shares, layer_shares, areas, scales))
    hits = predictions == truths
    has_masks = not np.all(np.isnan(shares))

    def mean(values, where=slice(None)):
        return float(values[where].mean()) if has_masks and values[where].size else None

    bins = np.clip(np.digitize(scales, SCALE_BINS[1:-1]), 0, len(SCALE_BINS) - 2)
    names = scale_bin_names()
    by_scale = {name: dict(row, correctness=mean(shares, bins == k), correctness_box=mean(box_shares, bins == k))
                for k, (name, row) in enumerate(zip(names, accuracy_by_group(hits, bins, len(names))))}
    return dict(accuracy=float(hits.mean()), correctness=mean(shares), correctness_box=mean(box_shares),
                box_share=float(areas.mean()), layer_correctness_box=[float(v) for v in layer_shares.mean(axis=0)],
                count=int(len(hits)), by_scale=by_scale,
                by_answer=accuracy_by_answer(predictions, truths, NUM_ANSWERS[config.task]),
                by_query=accuracy_by_group(hits, asked, QUERY_SIZE[config.task]), task=config.task,
                note=data_note(config, backgrounds))


def accuracy_by_answer(predictions, truths, num_answers):
    """Per answer class: its rows, their accuracy, and the wrong answer given most often.

    Args:
      predictions, truths: int arrays ``[N]`` of predicted and true answer classes.
      num_answers: number of classes (5 colours, or 10 digits for the inverse task).

    Returns:
      a list of ``num_answers`` dicts ``count``, ``accuracy``, ``confused_with``, ``confused_share``
      (see :func:`evaluate`).
    """
    confusion = np.zeros([num_answers, num_answers], np.int64)
    np.add.at(confusion, (truths, predictions), 1)
    rows = []
    for k, row in enumerate(confusion):
        count = int(row.sum())
        wrong = row.copy()
        wrong[k] = 0
        other = int(wrong.argmax())
        rows.append(dict(count=count, accuracy=float(row[k] / count) if count else None,
                         confused_with=other if wrong[other] else None,
                         confused_share=float(wrong[other] / count) if count else None))
    return rows


def _correctness_text(row, label):
    if row["correctness"] is None:
        return ""
    return f", {label} {row['correctness']:.3f} (ink), {row['correctness_box']:.3f} (box)"


def accuracy_by_group(hits, groups, num_groups):
    """Per group ``0 .. num_groups - 1`` (``groups``: int ``[N]``, e.g. query class or scale bin):
    its rows' ``count`` and ``accuracy`` (None without rows); ``hits``: bool ``[N]``."""
    rows = []
    for k in range(num_groups):
        inside = groups == k
        rows.append(dict(count=int(inside.sum()), accuracy=float(hits[inside].mean()) if inside.any() else None))
    return rows


def _answer_text(answer, row, task):
    text = f"{answer_name(task, answer)} {100 * row['accuracy']:.1f}%"
    if row["confused_with"] is not None and row["confused_share"] >= 0.05:
        text += f" (as {answer_name(task, row['confused_with'])} {100 * row['confused_share']:.0f}%)"
    return text


def format_results(results, title):
    """Human-readable lines for :func:`evaluate`'s dict."""
    lines = [f"{title}: accuracy {results['accuracy']:.4f} on {results['count']} query rows"
             + _correctness_text(results, "mask correctness")]
    if results.get("layer_correctness_box"):
        layers = " ".join(f"{v:.3f}" for v in results["layer_correctness_box"])
        lines.append(f"  box correctness of each layer's mask alone: {layers} (a uniform mask: "
                     f"{results['box_share']:.3f})")
    for name, row in results["by_scale"].items():
        if row["count"]:
            lines.append(f"  scale {name}: accuracy {row['accuracy']:.4f}" + _correctness_text(row, "correctness")
                         + f"  ({row['count']} rows)")
    if results.get("by_answer"):
        lines.append("  by answer: " + ", ".join(_answer_text(k, row, results["task"])
                                                 for k, row in enumerate(results["by_answer"]) if row["count"]))
    if results.get("by_query"):
        lines.append("  by query: " + ", ".join(f"{query_name(results['task'], k)} {100 * row['accuracy']:.1f}%"
                                                for k, row in enumerate(results["by_query"]) if row["count"]))
    if results["note"]:
        lines.append(f"  ({results['note']})")
    return "\n".join(lines)


def diagnose(model, config, batches=8, label="best", mnist=None, backgrounds=None, cache_dir=None):
    """The text of :mod:`attention_rnn.diagnostics`' report on the first ``batches`` training
    batches, for ``model`` (its checkpoint named ``label``) and for the run's untrained network
    (the same seeded initialisation that training starts from)."""
    ds = dataset(config, "train", mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir)
    taken = list(ds.take(batches))
    keras.utils.set_random_seed(config.seed)
    untrained = build_model(config)
    return "\n".join(diagnostics.format_report(name, diagnostics.mask_and_gradient_report(net, taken))
                     for name, net in ((f"checkpoint {label}", model), ("untrained", untrained)))
