"""Training and evaluating the attribute network (MREF / MDIST / MBG): fit with checkpoints,
resume and TensorBoard; accuracy by scale bin and mask correctness; prediction pictures."""

import json
import os

import keras
import numpy as np
import tensorflow as tf

import data
from attention_rnn import visualize
from attention_rnn.config import AttributeConfig
from attention_rnn.model import AttributeNetwork, combined_mask, mask_correctness
from data.attributes import SCALE_BINS, SIZE, background_label, make_attribute_dataset
from trainkit import distribute
from trainkit import (Checkpoints, RunError, SafeBackup, StopOnNaN, StopWhenStale, TimeBudget, budget_spent,
                      checkpoint_path, epochs_backed_up, load_config, load_weights)


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
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  jit_compile=jit_compile)
    model((tf.zeros([1, SIZE, SIZE, 3]), tf.zeros([1, config.query_size])))
    return model


def data_note(config, backgrounds=None):
    """The line that must accompany MBG results: which backgrounds they were made with."""
    return f"MBG backgrounds: {background_label(backgrounds)}" if config.dataset == "mbg" else None


def dataset(config, split, batch_size=None, mnist=None, backgrounds=None, cache_dir=None, **kwargs):
    size = {"train": config.train_size, "validation": config.validation_size}.get(split, kwargs.pop("size", None))
    return make_attribute_dataset(config.dataset, split, batch_size or config.batch_size, seed=config.seed,
                                  mnist=mnist, size=size, backgrounds=backgrounds, cache_dir=cache_dir,
                                  verbose=True, task=config.task, **kwargs)


class MaskPictures(keras.callbacks.Callback):
    """Logs the attention masks of a fixed validation batch to TensorBoard every epoch."""

    def __init__(self, log_dir, inputs, answers, note=None, count=4, task="attribute"):
        super().__init__()
        self.task = task
        self.writer = tf.summary.create_file_writer(os.path.join(log_dir, "masks"))
        self.images, self.queries = inputs[0][:count], inputs[1][:count]
        self.answers, self.note = answers[:count].numpy(), note

    def on_epoch_end(self, epoch, logs=None):
        if self.model.attention_kind == "none":
            return
        logits, masks = self.model((self.images, self.queries), return_masks=True)
        pictures = []
        for b in range(len(self.answers)):
            panel = visualize.attention_panel(self.images[b].numpy(), int(np.argmax(self.queries[b])),
                                              int(np.argmax(logits[b])), int(self.answers[b]),
                                              [m[b, ..., 0].numpy() for m in masks], source_note=self.note,
                                              task=self.task)
            pictures.append(np.asarray(panel, np.float32) / 255.0)
        width = max(p.shape[1] for p in pictures)
        pictures = [np.pad(p, [[0, 0], [0, width - p.shape[1]], [0, 0]]) for p in pictures]
        with self.writer.as_default():
            tf.summary.image("attention_masks", np.stack(pictures), step=epoch + 1, max_outputs=len(pictures))
        self.writer.flush()


def train(config, model_dir, mnist=None, backgrounds=None, cache_dir=None, verbose="auto", minutes=None,
          patience=None, strategy=None):
    """Trains (or resumes) the attribute run in ``model_dir``; returns the Keras ``History``.

    ``minutes``: stop after the epoch that passes this much training time (over all sittings).
    ``patience``: stop once this many epochs pass without a better validation accuracy (over
    all sittings; :class:`trainkit.StopWhenStale`). Under a ``strategy`` (see
    :mod:`trainkit.distribute`) ``config.batch_size`` is the global batch and only the chief
    worker writes the run's files.

    Validation every epoch; ``best``/``latest`` checkpoints and ``config.json`` in
    ``model_dir``; TensorBoard in ``model_dir/logs`` (loss, accuracy, learning rate, masks); a
    backup in ``model_dir/backup`` from which a killed run resumes at its last epoch, reading
    the same data passes as an uninterrupted run.
    """
    strategy, chief, write_dir = distribute.start_run(model_dir, config, strategy)
    keras.utils.set_random_seed(config.seed)
    backup_dir = os.path.join(write_dir, "backup")
    train_size = config.train_size or data.attributes.SPLIT_SIZES["train"]
    steps = train_size // config.batch_size
    if steps < 1:
        raise RunError(f"--batch {config.batch_size} is larger than the training set ({train_size}); lower it")
    mnist = mnist if mnist is not None else data.load_mnist()
    train_ds = dataset(config, "train", mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir,
                       first_pass=epochs_backed_up(backup_dir))
    val_ds = dataset(config, "validation", mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir)
    single = strategy.num_replicas_in_sync == 1 and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    with strategy.scope():
        model = build_model(config, jit_compile=None if single else False)  # XLA cannot read remote mirrors
    backup = SafeBackup(backup_dir)
    callbacks = [backup, StopOnNaN()]
    if chief:
        log_dir = os.path.join(model_dir, "logs")
        val_inputs, val_answers = next(iter(val_ds))
        callbacks += [Checkpoints(model_dir, backup=backup), keras.callbacks.TensorBoard(log_dir, write_graph=False),
                      MaskPictures(log_dir, val_inputs, val_answers, note=data_note(config, backgrounds),
                                   task=config.task)]
    callbacks.append(TimeBudget(minutes, model_dir if chief else None))  # counted over every sitting
    if patience:
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            raise RunError("patience (early stopping) is not supported with several workers: every worker "
                           "would have to stop at the same epoch; use --epoch")
        callbacks.append(StopWhenStale(model_dir, patience))
    history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, steps_per_epoch=steps,
                        callbacks=callbacks, verbose=verbose if chief else 0, shuffle=False)
    history.nan_stopped = getattr(model, "nan_stopped", False)
    history.write_failed = any(getattr(c, "failed", False) for c in callbacks)
    return history


def load_trained(model_dir, which="best"):
    """``(model, config)`` of a run directory, with the ``best``/``latest``/given checkpoint."""
    config = load_config(model_dir, AttributeConfig)
    path = checkpoint_path(model_dir, which)
    model = build_model(config)
    load_weights(model, path)
    return model, config


def scale_bin_names():
    return [f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(SCALE_BINS[:-1], SCALE_BINS[1:])]


def evaluate(model, config, split="test", size=None, mnist=None, backgrounds=None, cache_dir=None,
             batch_size=50):
    """Accuracy (overall and by the target's scale bin) and mask correctness on a split.

    Mask correctness: the fraction of the combined mask's mass (every attended layer's mask
    bilinearly upsampled to 100x100, then multiplied) inside the target digit's pixels, averaged
    over examples (Section 4.1). None for ``attention="none"``.

    Returns:
      dict ``accuracy``, ``correctness``, ``count``, ``by_scale`` (bin name -> dict
      ``accuracy``, ``correctness``, ``count``) and ``note`` (the MBG backgrounds label or None).
    """
    ds = dataset(config, split, batch_size, mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir,
                 with_info=True, size=size)

    @tf.function
    def step(images, queries, masks):
        logits, layer_masks = model((images, queries), return_masks=True)
        correct = tf.cast(tf.argmax(logits, -1, output_type=tf.int32), tf.int32)
        if layer_masks:
            share = mask_correctness(combined_mask(layer_masks, SIZE), masks)
        else:
            share = tf.fill(tf.shape(correct), np.nan)
        return correct, share

    hits, shares, scales = [], [], []
    for (images, queries, scale, masks), answers in ds:
        predicted, share = step(images, queries, masks)
        hits.append(predicted.numpy() == answers.numpy())
        shares.append(share.numpy())
        scales.append(scale.numpy())
    hits, shares, scales = map(np.concatenate, (hits, shares, scales))
    has_masks = not np.all(np.isnan(shares))
    bins = np.clip(np.digitize(scales, SCALE_BINS[1:-1]), 0, len(SCALE_BINS) - 2)
    by_scale = {}
    for k, name in enumerate(scale_bin_names()):
        inside = bins == k
        by_scale[name] = dict(count=int(inside.sum()),
                              accuracy=float(hits[inside].mean()) if inside.any() else None,
                              correctness=float(shares[inside].mean()) if inside.any() and has_masks else None)
    return dict(accuracy=float(hits.mean()), correctness=float(shares.mean()) if has_masks else None,
                count=int(len(hits)), by_scale=by_scale, note=data_note(config, backgrounds))


def format_results(results, title):
    """Human-readable lines for :func:`evaluate`'s dict."""
    lines = [f"{title}: accuracy {results['accuracy']:.4f} on {results['count']} query rows"
             + (f", mask correctness {results['correctness']:.3f}" if results["correctness"] is not None else "")]
    for name, row in results["by_scale"].items():
        if row["count"]:
            lines.append(f"  scale {name}: accuracy {row['accuracy']:.4f}"
                         + (f", correctness {row['correctness']:.3f}" if row["correctness"] is not None else "")
                         + f"  ({row['count']} rows)")
    if results["note"]:
        lines.append(f"  ({results['note']})")
    return "\n".join(lines)


def write_predictions(model, config, out_dir, count, mnist=None, backgrounds=None, cache_dir=None):
    """Writes ``count`` test pictures (image, each layer's mask, their product; query and
    answer in the caption) and ``predictions.json`` (query, answer, truth, scale per image)."""
    os.makedirs(out_dir, exist_ok=True)
    ds = dataset(config, "test", min(count, 50), mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir,
                 with_info=True, size=count)
    records, index = [], 0
    note = data_note(config, backgrounds)
    for (images, queries, scales, masks), answers in ds:
        logits, layer_masks = model((images, queries), return_masks=True)
        shares = (mask_correctness(combined_mask(layer_masks, SIZE), masks).numpy() if layer_masks
                  else [None] * len(answers))
        for b in range(len(answers)):
            query, answer = int(np.argmax(queries[b])), int(np.argmax(logits[b]))
            truth = int(answers[b])
            share = None if shares[b] is None else float(shares[b])
            panel = visualize.attention_panel(images[b].numpy(), query, answer, truth,
                                              [m[b, ..., 0].numpy() for m in layer_masks], share, note,
                                              task=config.task)
            name = f"{index:04d}_query{query}.png"
            panel.save(os.path.join(out_dir, name))
            records.append(dict(file=name, query=query, query_name=data.attributes.query_name(config.task, query),
                                answer=data.attributes.answer_name(config.task, answer),
                                truth=data.attributes.answer_name(config.task, truth), scale=float(scales[b]),
                                mask_correctness=share))
            index += 1
    with open(os.path.join(out_dir, "predictions.json"), "w") as f:
        json.dump(dict(dataset=config.dataset, task=config.task, attention=config.attention, note=note,
                       images=records), f, indent=1)
    return records


def write_sampled_masks(model, config, out_dir, count, samples=3, sigma_scale=1.0, copies=3, mnist=None,
                        backgrounds=None):
    """For a sampling model (``arnn_sample``): ``count`` test-like images that hold the query
    digit ``copies`` times in distinct colours (:func:`data.attributes.render_multimodal`), and
    per image one picture of ``samples`` sampled masks side by side (every layer's sample
    combined), drawn with sigma scaled by ``sigma_scale`` (the paper's Fig. 6a). Writes
    ``multimodal_XXXX.png`` and returns their paths.

    Raises:
      RunError: the model does not sample its masks.
    """
    layers = [a for a in model.attentions if a is not None]
    if not layers or any(getattr(a, "mode", None) != "sample" for a in layers):
        raise RunError(f"--mask_samples needs a model trained with --attention arnn_sample, not {config.attention}")
    if config.task != "attribute":
        raise RunError("sampled masks of several right answers are drawn for the attribute task only")
    os.makedirs(out_dir, exist_ok=True)
    pool, by_class = data.attributes.pooled_digits(mnist if mnist is not None else data.load_mnist())
    note, paths = data_note(config, backgrounds), []
    for layer in layers:
        layer.sigma_scale = float(sigma_scale)
    try:
        for index in range(count):
            rng = np.random.default_rng([config.seed, 7, index])  # its own stream: not a test image
            image, query, _, _ = data.attributes.render_multimodal(rng, pool, by_class, config.dataset, copies,
                                                                   backgrounds)
            images = tf.constant(image[None].astype(np.float32) / 255.0)
            queries = tf.one_hot([query], 10)
            masks = []
            for _ in range(samples):
                _, layer_masks = model((images, queries), return_masks=True)
                masks.append(combined_mask(layer_masks, SIZE)[0, ..., 0].numpy())
            caption = (f"query: digit {query} ({copies} copies in different colours); {samples} samples, "
                       f"sigma x {sigma_scale:g}")
            path = os.path.join(out_dir, f"multimodal_{index:04d}.png")
            visualize.samples_panel(images[0].numpy(), caption, masks, note).save(path)
            paths.append(path)
    finally:
        for layer in layers:
            layer.sigma_scale = 1.0
    return paths

