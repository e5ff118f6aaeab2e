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
from trainkit import (Checkpoints, RunError, SafeBackup, StopOnNaN, TimeBudget, budget_spent, checkpoint_path,
                      epochs_backed_up, load_config, load_weights, prepare_run_dir)


def build_model(config):
    """A compiled, built :class:`AttributeNetwork`: Adam with clipped gradients, cross-entropy
    on the colour logits, accuracy. No XLA: it makes the column scans of the diagonal LSTMs
    slower on CPU, not faster."""
    model = AttributeNetwork(**config.model_kwargs())
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  jit_compile=False)
    model((tf.zeros([1, SIZE, SIZE, 3]), tf.zeros([1, 10])))
    return model


def data_note(config, backgrounds=None):
    """The line that must accompany MBG results: which backgrounds they were made with."""
    return f"MBG backgrounds: {background_label(backgrounds)}" if config.dataset == "mbg" else None


def dataset(config, split, batch_size=None, mnist=None, backgrounds=None, cache_dir=None, **kwargs):
    size = {"train": config.train_size, "validation": config.validation_size}.get(split, kwargs.pop("size", None))
    return make_attribute_dataset(config.dataset, split, batch_size or config.batch_size, seed=config.seed,
                                  mnist=mnist, size=size, backgrounds=backgrounds, cache_dir=cache_dir,
                                  verbose=True, **kwargs)


class MaskPictures(keras.callbacks.Callback):
    """Logs the attention masks of a fixed validation batch to TensorBoard every epoch."""

    def __init__(self, log_dir, inputs, answers, note=None, count=4):
        super().__init__()
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
                                              [m[b, ..., 0].numpy() for m in masks], source_note=self.note)
            pictures.append(np.asarray(panel, np.float32) / 255.0)
        width = max(p.shape[1] for p in pictures)
        pictures = [np.pad(p, [[0, 0], [0, width - p.shape[1]], [0, 0]]) for p in pictures]
        with self.writer.as_default():
            tf.summary.image("attention_masks", np.stack(pictures), step=epoch + 1, max_outputs=len(pictures))
        self.writer.flush()


def train(config, model_dir, mnist=None, backgrounds=None, cache_dir=None, verbose="auto", minutes=None):
    """Trains (or resumes) the attribute run in ``model_dir``; returns the Keras ``History``.

    Validation every epoch; ``best``/``latest`` checkpoints and ``config.json`` in
    ``model_dir``; TensorBoard in ``model_dir/logs`` (loss, accuracy, learning rate, masks); a
    backup in ``model_dir/backup`` from which a killed run resumes at its last epoch, reading
    the same data passes as an uninterrupted run.
    """
    prepare_run_dir(model_dir, config)
    keras.utils.set_random_seed(config.seed)
    backup_dir = os.path.join(model_dir, "backup")
    train_size = config.train_size or data.attributes.SPLIT_SIZES["train"]
    steps = train_size // config.batch_size
    if steps < 1:
        raise RunError(f"--batch {config.batch_size} is larger than the training set ({train_size}); lower it")
    mnist = mnist if mnist is not None else data.load_mnist()
    train_ds = dataset(config, "train", mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir,
                       first_pass=epochs_backed_up(backup_dir))
    val_ds = dataset(config, "validation", mnist=mnist, backgrounds=backgrounds, cache_dir=cache_dir)
    model = build_model(config)
    log_dir = os.path.join(model_dir, "logs")
    val_inputs, val_answers = next(iter(val_ds))
    backup = SafeBackup(backup_dir)
    callbacks = [backup, StopOnNaN(),
                 Checkpoints(model_dir, backup=backup), keras.callbacks.TensorBoard(log_dir, write_graph=False),
                 MaskPictures(log_dir, val_inputs, val_answers, note=data_note(config, backgrounds))]
    callbacks.append(TimeBudget(minutes, model_dir))  # counted over every sitting of the run
    history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, steps_per_epoch=steps,
                        callbacks=callbacks, verbose=verbose, shuffle=False)
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
                                              [m[b, ..., 0].numpy() for m in layer_masks], share, note)
            name = f"{index:04d}_query{query}.png"
            panel.save(os.path.join(out_dir, name))
            records.append(dict(file=name, query=query, answer=data.attributes.COLOUR_NAMES[answer],
                                truth=data.attributes.COLOUR_NAMES[truth], scale=float(scales[b]),
                                mask_correctness=share))
            index += 1
    with open(os.path.join(out_dir, "predictions.json"), "w") as f:
        json.dump(dict(dataset=config.dataset, attention=config.attention, note=note, images=records), f, indent=1)
    return records
