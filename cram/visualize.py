"""Pictures of CRAM's glimpses (Pillow): windows over the image and the clue; for inpainting,
the paper's Fig. 7 row (ground truth | occluded input | generated | completed)."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WINDOW_COLOURS = [(255, 60, 60), (255, 170, 0), (255, 240, 80), (80, 220, 120), (80, 200, 255),
                  (120, 120, 255), (200, 120, 255), (255, 120, 200)]


def _font():
    try:
        return ImageFont.load_default(size=11)
    except TypeError:
        return ImageFont.load_default()


def window_box(theta, height, width):
    """Pixel box ``(left, top, right, bottom)`` of the glimpse window of ``theta = (s, tx, ty)``:
    normalised ``x`` in ``[tx - s, tx + s]`` with -1 and +1 the centres of the first and last
    pixel, so pixel ``u = (x + 1) * (width - 1) / 2``."""
    s, tx, ty = (float(v) for v in theta)
    to_u = lambda x, n: (x + 1.0) * (n - 1) / 2.0  # noqa: E731
    return to_u(tx - s, width), to_u(ty - s, height), to_u(tx + s, width), to_u(ty + s, height)


def to_rgb(image):
    image = np.clip(np.asarray(image, np.float32), 0, 1)
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return (image * 255).astype(np.uint8)


def tile(image, zoom, thetas=None, title=None):
    """One enlarged tile, with the glimpse windows of ``thetas [T, 3]`` drawn in step colours."""
    height, width = image.shape[:2]
    picture = Image.fromarray(to_rgb(image)).resize((width * zoom, height * zoom), Image.NEAREST)
    canvas = Image.new("RGB", (picture.width, picture.height + 14), (20, 20, 20))
    canvas.paste(picture, (0, 14))
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((2, 1), title, fill=(230, 230, 230), font=_font())
    for t, theta in enumerate([] if thetas is None else thetas):
        l, u, r, b = window_box(theta, height, width)
        box = [(l + 0.5) * zoom, (u + 0.5) * zoom + 14, (r + 0.5) * zoom, (b + 0.5) * zoom + 14]
        draw.rectangle(box, outline=WINDOW_COLOURS[t % len(WINDOW_COLOURS)], width=2 if t else 3)
    return canvas


def row(tiles, gap=4):
    canvas = Image.new("RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1), max(t.height for t in tiles)),
                       (20, 20, 20))
    x = 0
    for t in tiles:
        canvas.paste(t, (x, 0))
        x += t.width + gap
    return canvas


def column(pictures, gap=4):
    canvas = Image.new("RGB", (max(p.width for p in pictures), sum(p.height for p in pictures)
                               + gap * (len(pictures) - 1)), (20, 20, 20))
    y = 0
    for p in pictures:
        canvas.paste(p, (0, y))
        y += p.height + gap
    return canvas


def classification_picture(image, clue, thetas, label, predicted):
    """``image [H, W, 1]``, ``clue [H, W, 1]``, ``thetas [T, 3]``: windows over image and clue."""
    zoom = max(1, 180 // image.shape[1])
    verdict = "right" if predicted == label else "wrong"
    return row([tile(image, zoom, thetas, f"label {label}, says {predicted} ({verdict})"),
                tile(clue, zoom, thetas, "clue")])


def inpainting_picture(original, occluded, generated, completed, thetas, note=None):
    """The Fig. 7 row: ground truth | occluded input (with the glimpse windows) | generated | completed."""
    zoom = 5
    tiles = [tile(original, zoom, None, "ground truth"), tile(occluded, zoom, thetas, "occluded + glimpses"),
             tile(generated, zoom, None, "generated"), tile(completed, zoom, None, "completed")]
    picture = row(tiles)
    if note:
        framed = Image.new("RGB", (picture.width, picture.height + 14), (20, 20, 20))
        framed.paste(picture, (0, 14))
        ImageDraw.Draw(framed).text((2, 1), note, fill=(255, 200, 80), font=_font())
        picture = framed
    return picture


def pictures_for(model, inputs, labels=None, note=None):
    """One picture per example of ``inputs = (images, masks)`` for either CRAM model; ``labels``
    are class labels (classification) or the original images (inpainting); ``note`` (the data's
    label, e.g. the SVHN stand-in's) is written on every inpainting picture."""
    if hasattr(model, "complete"):  # labels: the original images
        out = {k: v.numpy() for k, v in model.complete(inputs).items()}
        images = np.asarray(inputs[0])
        originals = images if labels is None else np.asarray(labels)
        return [inpainting_picture(originals[b], images[b], out["generated"][b], out["completed"][b],
                                   out["thetas"][b], note) for b in range(len(images))]
    out = model.explain(inputs)
    predicted = np.argmax(out["logits"].numpy(), -1)
    images = np.asarray(inputs[0])
    labels = predicted if labels is None else np.asarray(labels)
    return [classification_picture(images[b], out["clues"][b].numpy(), out["thetas"][b].numpy(), int(labels[b]),
                                   int(predicted[b])) for b in range(len(images))]


def write_predictions(model, config, out_dir, count, mnist=None, svhn_dir=None):
    """Writes ``count`` test pictures and a sheet of them all; returns the sheet's path."""
    import os

    import data
    os.makedirs(out_dir, exist_ok=True)
    if config.task == "inpaint":
        ds = data.svhn.make_svhn_occluded("test", count, seed=config.seed, source=config.svhn_source,
                                          data_dir=svhn_dir, limit=count, mnist=mnist)
    else:
        ds = data.make_dataset(config.dataset, "test", count, seed=config.seed, with_mask=True, mnist=mnist,
                               limit=count)
    inputs, targets = next(iter(ds))
    note = data.svhn.label(config.svhn_source) if config.task == "inpaint" else None
    pictures = pictures_for(model, inputs, targets, note)
    for k, picture in enumerate(pictures):
        picture.save(os.path.join(out_dir, f"{config.task}_{k:03d}.png"))
    sheet = column(pictures)
    if config.task == "inpaint":
        framed = Image.new("RGB", (sheet.width, sheet.height + 16), (20, 20, 20))
        framed.paste(sheet, (0, 16))
        ImageDraw.Draw(framed).text((2, 2), data.svhn.label(config.svhn_source), fill=(255, 200, 80), font=_font())
        sheet = framed
    path = os.path.join(out_dir, "sheet.png")
    sheet.save(path)
    return path
