"""One SGD step of the attribute network and of the CRAM classifier under MirroredStrategy
over 2 logical CPUs; prints the norms of the weight updates as JSON.

- The attribute network (Keras' own train step, no BatchNorm): on one device and mirrored, on
  the same global batch; they must agree.
- The CRAM classifier (our train_step): mirrored, and mirrored with its division by the
  replica count switched off. BatchNorm normalises each replica's half batch, so CRAM cannot
  match one device exactly; the SGD step is linear in the gradient, so the ratio of the two
  updates shows that the gradient is averaged over replicas, not summed.

Run as a subprocess by test_distribute.py: the CPU split must happen before TF starts. SGD,
not Adam: Adam's steps do not show a gradient summed over replicas instead of averaged.
"""

import json

from trainkit import distribute

distribute.split_cpu(2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from attention_rnn.model import AttributeNetwork  # noqa: E402
from cram.classifier import CRAMClassifier  # noqa: E402


def update_norm(strategy, make_model, inputs, labels, **compile_kwargs):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = make_model()
        model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False, **compile_kwargs)
        model.explain(inputs) if isinstance(model, CRAMClassifier) else model(inputs)  # variables in scope
    before = [w.numpy().copy() for w in model.trainable_variables]
    ds = tf.data.Dataset.from_tensors((inputs, labels))
    model.fit(ds, epochs=1, verbose=0, shuffle=False)
    return float(np.sqrt(sum(np.sum((w.numpy() - b) ** 2) for w, b in zip(model.trainable_variables, before))))


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    mirrored = distribute.make_strategy("mirrored")
    single = tf.distribute.get_strategy()
    images = rng.uniform(0, 1, (8, 24, 24, 3)).astype(np.float32)
    queries = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 8)]
    answers = rng.integers(0, 5, 8).astype(np.int32)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    report = {"replicas": mirrored.num_replicas_in_sync}
    for name, strategy in (("single", single), ("mirrored", mirrored)):
        report[f"attribute_{name}"] = update_norm(
            strategy, lambda: AttributeNetwork("ctx", filters=4, units=4, hidden=8, batch_norm=False),
            (images, queries), answers, loss=loss)
    gray = rng.uniform(0, 1, (32, 32, 32, 1)).astype(np.float32)
    masks = (rng.uniform(0, 1, (32, 32, 32, 1)) > 0.8).astype(np.float32)
    labels = rng.integers(0, 10, 32).astype(np.int32)
    import cram.classifier
    for name, count in (("mirrored", distribute.replica_count), ("mirrored_summed", lambda: 1)):
        cram.classifier.replica_count = count
        report[f"cram_{name}"] = update_norm(
            mirrored, lambda: CRAMClassifier(clue="oracle", num_glimpses=2, glimpse_size=8, filters=4, units=8),
            (gray, masks), labels)
    print(json.dumps(report))
