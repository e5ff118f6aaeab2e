"""Backgrounds for MBG (the attribute benchmark's digits over natural images).

The paper draws MBG's backgrounds from the SUN database, which reaches us only through TFDS
(online). Offline there are two labelled stand-ins:

- ``photos`` (the offline default): random crops of real photographs that ship inside
  scikit-image's wheel (``skimage/data``: five colour scenes and four grey texture or scene
  photographs, see :data:`PHOTOS`). The files are read straight from the installed
  distribution, so scikit-image is never imported and may be installed with ``--no-deps``
  (the Makefile does). Nine photographs are far fewer than SUN397's scenes: natural image
  statistics (edges, texture, clutter of colour), not their variety.
- ``fields``: smooth random colour fields (the earlier stand-in; not natural images).

A :class:`Backgrounds` carries its images with the name its rendered splits are cached under
and the label that every printed or saved MBG result must carry.
"""

import dataclasses
import importlib.metadata

import numpy as np
from PIL import Image

from data.sources import DataError, tfds_builder

SOURCES = ("photos", "fields", "sun397")
BANK_SIDE = 128  # each background of a bank is a square this size; images take 100x100 crops of it
MIN_SIDE = 100
# scikit-image's photographs of scenes or natural textures (its diagrams, microscopy and
# astronomy images are left out). Grey ones are replicated to three channels.
PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg", "brick.png",
          "grass.png", "gravel.png", "camera.png")
PHOTOS_PACKAGE = "scikit-image"
PHOTOS_INSTALL = "pip install --no-deps scikit-image==0.26.0"
FIELDS_LABEL = "stand-in backgrounds (smooth random colour fields, not SUN397)"


@dataclasses.dataclass(frozen=True, eq=False)
class Backgrounds:
    """A bank of MBG backgrounds.

    Attributes:
      images: ``[K, H, W, 3]`` uint8, ``H, W >= 100``; each MBG image takes a random 100x100
        crop of a random one.
      name: short tag of the source (``"photos"``, ``"sun397"``, ...), part of the cache
        file's name so that splits rendered over different backgrounds never mix.
      label: what every result on these backgrounds must say (e.g. ``"SUN397"``).
    """

    images: np.ndarray
    name: str
    label: str

    def __post_init__(self):
        images = self.images
        if (not isinstance(images, np.ndarray) or images.ndim != 4 or images.shape[-1] != 3
                or min(images.shape[1:3]) < MIN_SIDE or len(images) == 0):
            raise DataError(f"backgrounds must be [K, H, W, 3] images with K >= 1 and H, W >= {MIN_SIDE}, "
                            f"got {getattr(images, 'shape', type(images).__name__)}")


def as_backgrounds(backgrounds):
    """None (the smooth colour fields), a :class:`Backgrounds`, or a bare ``[K, H, W, 3]``
    array (user-supplied images, labelled as such) -> None or a :class:`Backgrounds`."""
    if backgrounds is None or isinstance(backgrounds, Backgrounds):
        return backgrounds
    return Backgrounds(np.asarray(backgrounds), "given", "user-supplied backgrounds")


def label(backgrounds):
    """The line every MBG result must carry: which backgrounds it was made with."""
    backgrounds = as_backgrounds(backgrounds)
    return FIELDS_LABEL if backgrounds is None else backgrounds.label


def colour_field(rng):
    """A smooth random colour field ``[100, 100, 3]`` float32 in [0, 255] (the ``fields`` stand-in)."""
    coarse = rng.uniform(0, 255, (5, 5, 3)).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((MIN_SIDE, MIN_SIDE), Image.BICUBIC), np.float32)
    return np.clip(smooth + rng.normal(0, 8, smooth.shape), 0, 255)


def photo_paths():
    """Paths of :data:`PHOTOS` inside the installed scikit-image distribution.

    Raises:
      DataError: scikit-image is not installed, or a photograph is missing from it.
    """
    try:
        distribution = importlib.metadata.distribution(PHOTOS_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise DataError(f"the photo backgrounds ship inside scikit-image, which is not installed: "
                        f"{PHOTOS_INSTALL} (or use --backgrounds fields)") from None
    paths = [distribution.locate_file(f"skimage/data/{name}") for name in PHOTOS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DataError(f"scikit-image's photographs are missing ({', '.join(missing)}); reinstall it: "
                        f"{PHOTOS_INSTALL}")
    return paths


def square_crops(photo, rng, count, side=BANK_SIDE):
    """``count`` random square crops of ``photo`` (``[H, W, 3]`` uint8, ``H, W >= 100``), each
    of a side drawn uniformly from 100 to ``min(H, W)``, at a uniform position, flipped left-right
    with probability 1/2 and resized (bilinear) to ``side`` x ``side``: ``[count, side, side, 3]``
    uint8."""
    h, w = photo.shape[:2]
    out = np.empty((count, side, side, 3), np.uint8)
    for k in range(count):
        crop = int(rng.integers(MIN_SIDE, min(h, w) + 1))
        r, c = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        square = photo[r:r + crop, c:c + crop]
        if rng.random() < 0.5:
            square = square[:, ::-1]
        out[k] = np.asarray(Image.fromarray(np.ascontiguousarray(square)).resize((side, side), Image.BILINEAR))
    return out


def load_photos(count=2000, seed=0):
    """The ``photos`` stand-in: ``count`` crops (:func:`square_crops`) spread evenly over
    :data:`PHOTOS`, the same on every machine for a seed. About a second."""
    paths = photo_paths()
    rng = np.random.default_rng(seed)
    per_photo = np.full(len(paths), count // len(paths))
    per_photo[:count % len(paths)] += 1
    banks = []
    for path, n in zip(paths, per_photo):
        try:
            photo = np.asarray(Image.open(path).convert("RGB"))
        except OSError as e:
            raise DataError(f"cannot read the photograph {path}: {e}; reinstall it: {PHOTOS_INSTALL}") from None
        banks.append(square_crops(photo, rng, int(n)))
    images = np.concatenate(banks)[rng.permutation(count)]
    return Backgrounds(images, "photos", f"stand-in backgrounds (crops of {len(paths)} photographs shipped with "
                                         f"scikit-image, not SUN397)")


def load_sun397(data_dir=None, count=2000):
    """Natural-image backgrounds for MBG from TFDS ``sun397`` (downloads: needs the internet
    unless already prepared in ``data_dir``): the central square of each image whose sides are
    both at least 100, resized to 128x128, ``count`` of them."""
    tfds, builder = tfds_builder(
        "sun397", data_dir, "SUN397 backgrounds need tensorflow-datasets: pip install tensorflow-datasets",
        "SUN397 backgrounds must be downloaded but there is no network; use --backgrounds "
        "photos (the labelled offline stand-in), or prepare sun397 in --data_dir")
    builder.download_and_prepare()
    out = []
    for example in tfds.as_numpy(builder.as_dataset(split="train").take(4 * count)):
        image = example["image"]
        h, w = image.shape[:2]
        if min(h, w) < MIN_SIDE:
            continue
        side = min(h, w)
        square = image[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
        out.append(np.asarray(Image.fromarray(square).resize((BANK_SIDE, BANK_SIDE), Image.BILINEAR)))
        if len(out) == count:
            break
    return Backgrounds(np.stack(out), "sun397", "SUN397")


def load_backgrounds(source, data_dir=None):
    """MBG backgrounds by source name (:data:`SOURCES`): a :class:`Backgrounds`, or None for
    ``fields`` (drawn per image).

    Raises:
      DataError: an unknown source, or one that cannot be loaded here (with the fix).
    """
    if source == "photos":
        return load_photos()
    if source == "fields":
        return None
    if source == "sun397":
        return load_sun397(data_dir)
    raise DataError(f"unknown backgrounds {source!r}; valid: {', '.join(SOURCES)}")
