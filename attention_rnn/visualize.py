"""Pictures of attention masks over the image (Pillow): one panel per attended layer."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from data.attributes import answer_name, query_name

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
