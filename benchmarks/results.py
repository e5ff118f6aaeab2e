"""What every benchmark's results file carries: the commit that produced it, written atomically."""

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
