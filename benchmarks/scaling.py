"""RAM training throughput on 1 vs 2 logical CPU devices, and on every visible GPU.

    python -m benchmarks.scaling [--steps 200] [--batch 128]

Each setting runs in a fresh subprocess (logical devices must be set before TensorFlow
starts): ``default`` strategy on one device, then ``MirroredStrategy`` over 2 logical CPUs, and,
when GPUs are visible, ``MirroredStrategy`` over 1 and over all of them. Translate config,
global batch 128, XLA on. Runs unchanged on a GPU machine.
"""

import json
import os
import subprocess
import sys

from absl import app, flags

flags.DEFINE_integer("steps", 200, "Timed steps per setting (after a warm-up).")
flags.DEFINE_integer("batch", 128, "Global batch size.")
flags.DEFINE_string("_child", None, "Internal: run one setting and print JSON.")
FLAGS = flags.FLAGS


def child(setting):
    from trainkit import distribute
    kind, count = setting.split(":")
    count = int(count)
    if kind == "cpu" and count > 1:
        distribute.split_cpu(count)
    if kind == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import time

    import keras
    import tensorflow as tf

    from ram.config import RAMConfig
    from ram.training import build_model

    if kind == "cpu":
        tf.config.set_visible_devices([], "GPU")
        devices = [d.name for d in tf.config.list_logical_devices("CPU")][:count]
    else:
        devices = [d.name for d in tf.config.list_logical_devices("GPU")][:count]
    strategy = tf.distribute.MirroredStrategy(devices) if count > 1 else tf.distribute.get_strategy()
    keras.utils.set_random_seed(0)
    with strategy.scope():
        # As ram.training.train: several replicas run one step per call and without XLA.
        single = strategy.num_replicas_in_sync == 1
        model = build_model(RAMConfig.for_dataset("translate", batch_size=FLAGS.batch),
                            jit_compile=single, steps_per_execution=10 if single else 1)
    images = tf.random.uniform([FLAGS.batch * 8, 60, 60, 1], seed=1)
    labels = tf.random.uniform([FLAGS.batch * 8], 0, 10, tf.int32, seed=2)
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(FLAGS.batch, drop_remainder=True)
    ds = ds.cache().repeat().prefetch(tf.data.AUTOTUNE)
    model.fit(ds, steps_per_epoch=20, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=FLAGS.steps, epochs=1, verbose=0)
    rate = FLAGS.steps * FLAGS.batch / (time.perf_counter() - start)
    print(json.dumps({"setting": setting, "replicas": strategy.num_replicas_in_sync, "images_per_s": rate}))


def run_setting(setting):
    out = subprocess.run([sys.executable, "-m", "benchmarks.scaling", f"--_child={setting}",
                          f"--steps={FLAGS.steps}", f"--batch={FLAGS.batch}"],
                         capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    if out.returncode:
        print(f"{setting}: failed\n{out.stderr[-2000:]}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(_):
    if FLAGS._child:
        return child(FLAGS._child)
    import tensorflow as tf
    gpus = len(tf.config.list_physical_devices("GPU"))
    settings = ["cpu:1", "cpu:2"] + ([f"gpu:1"] + ([f"gpu:{gpus}"] if gpus > 1 else []) if gpus else [])
    print(f"{'devices':<10} {'replicas':>8} {'images/s':>10}")
    base = None
    for setting in settings:
        result = run_setting(setting)
        if result:
            base = base or result["images_per_s"]
            print(f"{setting:<10} {result['replicas']:>8} {result['images_per_s']:>10,.0f}  "
                  f"(x{result['images_per_s'] / base:.2f})", flush=True)


if __name__ == "__main__":
    app.run(main)
