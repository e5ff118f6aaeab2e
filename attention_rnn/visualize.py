"""Pictures of attention masks over the image (Pillow): one panel per attended layer; the
pictures of ``--predict`` (:func:`write_predictions`, :func:`write_sampled_masks`)."""

import json
import os

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw, ImageFont

import data
from attention_rnn.model import combined_mask, mask_correctness
from data.attributes import SIZE, answer_name, query_name
from trainkit import RunError

ZOOM = 2  # 100x100 images drawn at 200x200


def _font():
    try:
        return ImageFont.load_default(size=13)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def upsample(mask, size):
    """``[h, w]`` mask -> ``[size, size]`` by bilinear resizing (as :func:`combined_mask`)."""
    picture = Image.fromarray(np.asarray(mask, np.float32), "F").resize((size, size), Image.BILINEAR)
    return np.asarray(picture, np.float32)


def overlay(image, mask):
    """The image dimmed where the mask is low: ``image * (0.15 + 0.85 * mask / max(mask))``.
    ``image [H, W, 3]`` in [0, 1], ``mask [H, W]`` >= 0. Returns uint8 ``[H, W, 3]``."""
    scaled = mask / max(float(mask.max()), 1e-8)
    return (np.clip(image * (0.15 + 0.85 * scaled[..., None]), 0, 1) * 255).astype(np.uint8)


def _tile_row(tiles, titles, header):
    """A dark canvas with ``header`` pixels for captions, then the square uint8 ``tiles`` side
    by side (zoomed by ``ZOOM``), each titled below. Returns ``(canvas, draw, font)``."""
    side = tiles[0].shape[0] * ZOOM
    canvas = Image.new("RGB", (side * len(tiles) + 4 * (len(tiles) - 1), side + header + 16), (20, 20, 20))
    draw, font = ImageDraw.Draw(canvas), _font()
    for k, (tile, title) in enumerate(zip(tiles, titles)):
        x = k * (side + 4)
        canvas.paste(Image.fromarray(tile).resize((side, side), Image.NEAREST), (x, header))
        draw.text((x + 2, header + side + 2), title, fill=(220, 220, 220), font=font)
    return canvas, draw, font


def attention_panel(image, query, answer, truth, masks, correctness=None, source_note=None, task="attribute"):
    """One picture: the image, then each layer's mask over it, then their product.

    Args:
      image: ``[100, 100, 3]`` float in [0, 1]; query: the digit class asked about; answer,
        truth: predicted and true colour indices (the other way round for ``task="inverse"``).
      masks: list of ``[h_k, w_k]`` masks (coarser with depth); may be empty.
      correctness: optional fraction of attention mass on the target digit.
      source_note: optional line (e.g. the MBG stand-in label) printed under the caption.

    Returns:
      A ``PIL.Image``.
    """
    size = image.shape[0]
    tiles = [(np.clip(image, 0, 1) * 255).astype(np.uint8)]
    titles = ["image"]
    product = None
    for k, mask in enumerate(masks):
        up = upsample(mask, size)
        product = up if product is None else product * up
        tiles.append(overlay(image, up))
        titles.append(f"layer {k + 1} ({mask.shape[0]}x{mask.shape[1]})")
    if len(masks) > 1:
        tiles.append(overlay(image, product))
        titles.append("product")
    canvas, draw, font = _tile_row(tiles, titles, header=40 + (14 if source_note else 0))
    ok = answer == truth
    caption = (f"query: {query_name(task, query)}   answer: {answer_name(task, answer)}   "
               f"({'right' if ok else 'wrong; true ' + answer_name(task, truth)})")
    if correctness is not None:
        caption += f"   mass on target: {correctness:.2f}"
    draw.text((4, 4), caption, fill=(120, 230, 120) if ok else (255, 110, 110), font=font)
    if source_note:
        draw.text((4, 22), source_note, fill=(255, 200, 80), font=font)
    return canvas


def samples_panel(image, caption, sampled_masks, source_note=None):
    """The image, then one sampled attention mask over it per sample (the paper's Fig. 6a).

    Args:
      image: ``[100, 100, 3]`` float in [0, 1].
      caption: the line above the panels (the query, the sigma scale).
      sampled_masks: list of ``[100, 100]`` masks (each sample's layers combined).
      source_note: optional line printed under the caption.

    Returns:
      A ``PIL.Image``.
    """
    tiles = [(np.clip(image, 0, 1) * 255).astype(np.uint8)] + [overlay(image, m) for m in sampled_masks]
    titles = ["image"] + [f"sample {k + 1}" for k in range(len(sampled_masks))]
    canvas, draw, font = _tile_row(tiles, titles, header=22 + (14 if source_note else 0))
    draw.text((4, 4), caption, fill=(220, 220, 220), font=font)
    if source_note:
        draw.text((4, 20), source_note, fill=(255, 200, 80), font=font)
    return canvas


def write_predictions(model, config, out_dir, count, mnist=None, backgrounds=None, cache_dir=None):
    """Writes ``count`` test pictures (image, each layer's mask, their product; query and
    answer in the caption) and ``predictions.json`` (query, answer, truth, scale per image)."""
    from attention_rnn.training import data_note, dataset

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
            panel = attention_panel(images[b].numpy(), query, answer, truth,
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
    from attention_rnn.training import data_note

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
            samples_panel(images[0].numpy(), caption, masks, note).save(path)
            paths.append(path)
    finally:
        for layer in layers:
            layer.sigma_scale = 1.0
    return paths

