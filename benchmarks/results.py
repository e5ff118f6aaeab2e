"""What every benchmark's results file carries (the commit that produced it, written atomically),
how a benchmark names the run directories it resumes, and how it prints a markdown table."""

import json
import os
import subprocess


# Results files are rewritten by the benchmarks themselves: a change there is not a change of code.
RESULTS_DIR = "docs/results"


def commit():
    """The repository's commit (with ``+dirty`` when tracked files outside :data:`RESULTS_DIR`
    have changes), or ``unknown``."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                f":(exclude){RESULTS_DIR}"], capture_output=True, text=True,
                               check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def started_at_commit(run_dir, record="commit.json"):
    """The commit a run's first sitting started from: recorded in ``run_dir/record`` then,
    read back by every later sitting (a run that spans commits keeps its first)."""
    from trainkit import atomic_write_text

    path = os.path.join(run_dir, record)
    try:
        with open(path) as f:
            return json.load(f)["commit"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    value = commit()
    os.makedirs(run_dir, exist_ok=True)
    atomic_write_text(path, json.dumps({"commit": value}))
    return value


def write_json(path, rows):
    from trainkit import atomic_write_text

    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, json.dumps(rows, indent=1) + "\n")


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


def run_name(base, **settings):
    """``base``, or e.g. ``"cram_saliency_limit20000_seed1"``: one ``_<name><value>`` for each
    setting given as ``(value, default)`` whose value is not its default, in the order given.

    A benchmark resumes the run it finds under a name, so every setting that changes the data
    or the draw (seed, subset, source) must be in the name: otherwise ``--seed 1`` would resume,
    or only re-evaluate, the seed-0 run. Runs at the defaults keep the bare name.
    """
    return base + "".join(f"_{name}{value}" for name, (value, default) in settings.items() if value != default)


def separator(header):
    """The markdown separator row under ``header`` (one ``---`` cell per column)."""
    return "|---" * (header.count("|") - 1) + "|"


def markdown_table(header, body):
    """One markdown table: ``header``, its separator row, then the ``body`` lines."""
    return "\n".join([header, separator(header), *body])
