"""Choosing a ``tf.distribute`` strategy, and who writes files in a multi-worker run.

The models' ``train_step`` s are written to be correct under any strategy (losses scaled by
the global batch, per-replica noise slices, metrics aggregated by Keras); this module only
builds the strategy the user asked for. Other packages import it from here.
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


class StrategyError(Exception):
    """The requested strategy cannot run here; the message says why and what to do."""


def split_cpu(count):
    """Splits the first physical CPU into ``count`` logical devices (before TF initialises).

    Lets ``MirroredStrategy`` run, and be tested, with several replicas on one CPU.
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as e:
        raise StrategyError(f"cannot split the CPU into {count} devices after TensorFlow started ({e})") from None


def make_strategy(name):
    """Returns the ``tf.distribute.Strategy`` called ``name``.

    - ``default``: the current (single-device) strategy.
    - ``mirrored``: ``MirroredStrategy`` over the local GPUs, or over the logical CPUs when
      there are none (see :func:`split_cpu`).
    - ``multi_worker``: ``MultiWorkerMirroredStrategy`` configured by the ``TF_CONFIG``
      environment variable (``{"cluster": {"worker": ["host:port", ...]}, "task": {...}}``).
    - ``tpu``: ``TPUStrategy`` on the TPU a ``TPUClusterResolver`` finds.
    """
    if name not in STRATEGIES:
        raise StrategyError(f"unknown strategy {name!r}; valid strategies: {', '.join(STRATEGIES)}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise StrategyError("--strategy multi_worker needs the TF_CONFIG environment variable "
                                "(see README, 'Training on several GPUs or machines')")
        check_tf_config(os.environ["TF_CONFIG"])
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise StrategyError(f"--strategy tpu found no TPU ({type(e).__name__}: {e}); use default or mirrored") from None
    return tf.distribute.TPUStrategy(resolver)


def check_tf_config(text):
    """The parsed ``TF_CONFIG``; :class:`StrategyError` naming what is wrong with it.

    It must be a JSON object whose ``cluster`` maps job names to lists of ``host:port``
    strings and whose ``task`` names one of those jobs and an index within its list.
    """
    try:
        tf_config = json.loads(text)
    except ValueError as e:
        raise StrategyError(f"TF_CONFIG is not valid JSON ({e})") from None
    where = "TF_CONFIG"
    if not isinstance(tf_config, dict) or not isinstance(tf_config.get("cluster"), dict):
        raise StrategyError(f"{where} needs a \"cluster\" object, e.g. {{\"cluster\": {{\"worker\": "
                            "[\"host1:12345\", \"host2:12345\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}")
    cluster, task = tf_config["cluster"], tf_config.get("task")
    for job, hosts in cluster.items():
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts):
            raise StrategyError(f"{where}: cluster job {job!r} must be a non-empty list of \"host:port\" strings")
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise StrategyError(f"{where}: task.type must be one of the cluster's jobs ({', '.join(cluster)}), "
                            f"got {None if not isinstance(task, dict) else task.get('type')!r}")
    index = task.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise StrategyError(f"{where}: task.index must be 0-{len(cluster[task['type']]) - 1} for job "
                            f"{task['type']!r}, got {index!r}")
    return tf_config


def replica_count():
    """Replicas of the current replica context (1 outside a strategy): a custom ``train_step``
    divides its per-replica mean loss by it, since gradients are summed over replicas."""
    context = tf.distribute.get_replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def start_run(model_dir, config, strategy=None):
    """What every model's ``train`` does first under a strategy: checks that
    ``config.batch_size`` (the global batch) splits over the replicas, lets the chief alone
    prepare ``model_dir`` (:func:`trainkit.prepare_run_dir`), and makes this worker's write
    directory (:func:`worker_dir`).

    Returns:
      ``(strategy, chief, write_dir)``; ``strategy`` is the default one when None was given.
    """
    from trainkit.run_dir import RunError, prepare_run_dir

    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise RunError(f"--batch {config.batch_size} must be a multiple of the {replicas} replicas")
    chief = is_chief()
    if chief:
        prepare_run_dir(model_dir, config)
    write_dir = worker_dir(model_dir)
    os.makedirs(write_dir, exist_ok=True)
    return strategy, chief, write_dir


def is_chief():
    """True for the worker that writes checkpoints and logs (the only one without TF_CONFIG)."""
    if "TF_CONFIG" not in os.environ:
        return True
    try:
        tf_config = check_tf_config(os.environ["TF_CONFIG"])
    except StrategyError:
        return True  # make_strategy refuses it for multi_worker; other strategies ignore TF_CONFIG
    task = tf_config.get("task", {})
    kind, index = task.get("type", "chief"), int(task.get("index", 0))
    has_chief = "chief" in tf_config.get("cluster", {})
    return kind == "chief" or (not has_chief and kind == "worker" and index == 0)


def worker_dir(model_dir):
    """``model_dir`` for the chief; a private scratch directory inside it for other workers,
    so that only one process ever writes the run's checkpoints."""
    if is_chief():
        return model_dir
    task = check_tf_config(os.environ["TF_CONFIG"])["task"]
    return os.path.join(model_dir, "workers", f"{task['type']}_{task.get('index', 0)}")
