"""Pictures of glimpse paths (Pillow): one strip per image, step by step, and contact sheets."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ram.glimpse import glimpse_centres

SCALE_COLOURS = [(255, 60, 60), (255, 170, 0), (255, 240, 80), (80, 200, 255), (200, 120, 255)]
PATH_COLOUR = (0, 220, 120)
PANEL_PIXELS = 180  # the image is enlarged by an integer factor to about this width


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _zoom(width):
    return max(1, int(round(PANEL_PIXELS / width)))


def _panel(image, locations, sensor, step, caption, caption_colour=(255, 255, 255)):
    """One panel: the image, every scale's box at ``locations[step]`` and the path up to it."""
    height, width = image.shape
    zoom = _zoom(width)
    grey = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    picture = Image.fromarray(grey, "L").resize((width * zoom, height * zoom), Image.NEAREST).convert("RGB")
    header = 22
    canvas = Image.new("RGB", (picture.width, picture.height + header), (20, 20, 20))
    canvas.paste(picture, (0, header))
    draw = ImageDraw.Draw(canvas)
    cols, rows = glimpse_centres(np.asarray(locations, np.float32), height, width,
                                 sensor.resolved_unit_pixels(width))
    to_canvas = lambda c, r: ((c + 0.5) * zoom, (r + 0.5) * zoom + header)  # noqa: E731  pixel centre
    points = [to_canvas(c, r) for c, r in zip(cols[:step + 1], rows[:step + 1])]
    if len(points) > 1:
        draw.line(points, fill=PATH_COLOUR, width=2)
    for x, y in points[:-1]:
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=PATH_COLOUR)
    x, y = points[-1]
    for k, extent in reversed(list(enumerate(sensor.extents))):
        half = extent * zoom / 2.0
        draw.rectangle([x - half, y - half, x + half, y + half], outline=SCALE_COLOURS[k % len(SCALE_COLOURS)],
                       width=2)
    draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=PATH_COLOUR)
    draw.text((4, 3), caption, fill=caption_colour, font=_font(14))
    return canvas


def glimpse_path_strip(image, locations, step_probabilities, sensor, label=None):
    """The glimpse path step by step: one panel per glimpse, side by side.

    Args:
      image: ``[H, W]`` float in [0, 1].
      locations: ``[T, 2]`` ``(x, y)`` in [-1, 1] (see :class:`ram.GlimpseSensor`).
      step_probabilities: ``[T, classes]``: class probabilities after each glimpse.
      sensor: the model's :class:`ram.GlimpseSensor` (extents and unit pixels).
      label: the true class, shown in the last panel's caption, or None.

    Returns:
      A ``PIL.Image`` (RGB): panel t shows every scale's box at step t, the path so far, and
      the prediction after that glimpse with its probability.
    """
    steps = len(locations)
    panels = []
    for t in range(steps):
        guess = int(np.argmax(step_probabilities[t]))
        caption = f"{t + 1}: {guess} ({step_probabilities[t][guess]:.2f})"
        colour = (255, 255, 255)
        if t == steps - 1 and label is not None:
            caption += f" true {label}"
            colour = (120, 255, 120) if guess == label else (255, 110, 110)
        panels.append(_panel(image, locations, sensor, t, caption, colour))
    return _hstack(panels, gap=4)


def glimpse_path_summary(image, locations, probabilities, sensor, label=None):
    """One panel: the whole path, the last glimpse's boxes, and the final prediction."""
    guess = int(np.argmax(probabilities))
    caption = f"{guess} ({probabilities[guess]:.2f})" + ("" if label is None else f" true {label}")
    colour = (255, 255, 255) if label is None else ((120, 255, 120) if guess == label else (255, 110, 110))
    return _panel(image, locations, sensor, len(locations) - 1, caption, colour)


def _hstack(images, gap):
    width = sum(im.width for im in images) + gap * (len(images) - 1)
    out = Image.new("RGB", (width, max(im.height for im in images)), (90, 90, 90))
    x = 0
    for im in images:
        out.paste(im, (x, 0))
        x += im.width + gap
    return out


def contact_sheet(images, columns=8, gap=4):
    """Tiles equally sized ``PIL.Image`` panels in a grid, ``columns`` per row."""
    rows = -(-len(images) // columns)
    w, h = images[0].width, images[0].height
    sheet = Image.new("RGB", (columns * w + (columns - 1) * gap, rows * h + (rows - 1) * gap), (90, 90, 90))
    for i, im in enumerate(images):
        sheet.paste(im, ((i % columns) * (w + gap), (i // columns) * (h + gap)))
    return sheet


def write_predictions(model, config, out_dir, count, mnist=None):
    """Draws ``count`` test images' glimpse paths: one strip PNG each and a contact sheet.

    Returns the contact sheet's path.
    """
    import os  # pylint: disable=import-outside-toplevel
    import data  # pylint: disable=import-outside-toplevel

    os.makedirs(out_dir, exist_ok=True)
    images, labels = next(iter(data.make_dataset(config.dataset, "test", count, seed=config.seed, mnist=mnist)))
    out = {k: v.numpy() for k, v in model.explain(images).items()}
    summaries = []
    for i in range(len(labels)):
        image, label = images[i, ..., 0].numpy(), int(labels[i])
        strip = glimpse_path_strip(image, out["locations"][i], out["step_probabilities"][i], model.sensor, label)
        strip.save(os.path.join(out_dir, f"glimpses_{i:03d}.png"))
        summaries.append(glimpse_path_summary(image, out["locations"][i], out["probabilities"][i],
                                              model.sensor, label))
    path = os.path.join(out_dir, "contact_sheet.png")
    contact_sheet(summaries, columns=min(8, len(summaries))).save(path)
    return path
