"""ram.evaluation.path_count_errors: the mean path against k averaged sampled paths."""

import numpy as np
import pytest
import tensorflow as tf

from ram import RecurrentAttentionModel


def _model(std):
    model = RecurrentAttentionModel(num_glimpses=3, patch_size=6, num_scales=2, unit_pixels=8, std=std, seed=1,
                                    core="rnn", train_paths=1, path_baseline=False, hidden_glimpse=16, hidden_location=16, glimpse_units=32, core_units=32)
    model(tf.zeros([1, 24, 24, 1]))
    return model


def _dataset(n=48, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (n, 24, 24, 1)).astype(np.float32)
    labels = rng.integers(0, 10, n).astype(np.int32)
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(16), images, labels


def test_mean_path_error_is_the_models_and_results_are_seeded():
    from ram.evaluation import path_count_errors

    model = _model(std=0.5)
    dataset, images, labels = _dataset()
    result = path_count_errors(model, dataset, counts=(1, 2, 4), repeats=2)
    answers = np.argmax(model(images)["probabilities"].numpy(), -1)  # evaluation follows the mean path
    assert result["images"] == 48 and result["counts"] == [1, 2, 4]
    assert result["mean_path"] == pytest.approx(100.0 * np.mean(answers != labels))
    assert len(result["errors"]) == len(result["errors_sd"]) == 3
    assert all(0.0 <= e <= 100.0 for e in result["errors"])
    assert result["errors_sd"][0] > 0.0  # wide paths of an untrained model: single paths differ
    assert path_count_errors(model, dataset, counts=(1, 2, 4), repeats=2) == result


def test_paths_without_spread_are_the_mean_path():
    from ram.evaluation import path_count_errors

    model = _model(std=1e-6)  # every sampled path is the mean path, to within a millionth of the image
    dataset, _, _ = _dataset()
    result = path_count_errors(model, dataset, counts=(1, 3), repeats=2)
    assert result["errors"] == pytest.approx([result["mean_path"]] * 2)
    assert result["errors_sd"] == pytest.approx([0.0, 0.0])
    assert result["mean_wrong_paths_right"] == result["mean_right_paths_wrong"] == 0.0


@pytest.mark.parametrize("counts, repeats", [((2, 3), 1), ((0, 2), 1), ((1, 2), 0)])
def test_bad_counts_or_repeats_are_a_clear_error(counts, repeats):
    from ram.evaluation import path_count_errors

    dataset, _, _ = _dataset(n=4)
    with pytest.raises(ValueError, match="counts|repeats"):
        path_count_errors(_model(std=0.1), dataset, counts=counts, repeats=repeats)


def test_benchmark_table_gives_each_count_with_its_spread():
    from benchmarks.ram_runs import format_path_rows

    row = dict(run="translate_90min_seed0", images=10000, mean_path=1.48, counts=[1, 10], errors=[1.61, 0.93],
               errors_sd=[0.05, 0.02], mean_wrong_paths_right=0.7, mean_right_paths_wrong=0.15)
    lines = format_path_rows([row]).splitlines()
    assert lines[0].startswith("| run | test images | mean path % | 1 path % | 10 paths % |")
    assert lines[2] == "| translate_90min_seed0 | 10000 | 1.48 | 1.61 ± 0.05 | 0.93 ± 0.02 | 0.70 | 0.15 |"
