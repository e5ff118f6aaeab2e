"""Recurrent visual attention in TensorFlow 2 / Keras 3: RAM, CRAM and AttentionRNN."""

import setuptools

setuptools.setup(
    name="recurrent-visual-attention",
    version="0.1.0",
    description=__doc__,
    python_requires=">=3.11",
    packages=setuptools.find_packages(include=["ram*", "cram*", "attention_rnn*", "data*", "examples*", "trainkit*"]),
    # The shipped pretrained models: weights and their manifests (trainkit/pretrained.py).
    package_data={package: ["pretrained/*.json", "pretrained/*.weights.h5"] for package in ("ram", "cram", "attention_rnn")},
    install_requires=[
        "tensorflow==2.21.*",
        # tensorflow-probability 0.25 refuses to import without tf-keras of the same version as TF,
        # although our code uses Keras 3.
        "tf-keras==2.21.*",
        "tensorflow-probability==0.25.*",
        "tensorflow-datasets",
        "importlib_resources",  # tensorflow-datasets needs it to download
        "tensorboard",  # TF 2.21 no longer brings it; tf.summary and the Keras callback need it
        "absl-py",
        "pillow",  # the glimpse-path and inpainting PNGs
    ],
    extras_require={"test": ["pytest", "pytest-xdist"]},  # xdist: make test runs two workers
)
