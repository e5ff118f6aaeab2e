"""The one way the example command lines end: a result, or one line that says what went wrong."""

import sys

from absl import app, logging


def run_main(run, argv):
    """Calls ``run()`` and exits with its status; user mistakes and faults end in one line.

    ``DataError``, ``RunError`` and ``StrategyError`` (a mistake or an environment problem
    the message explains) print ``error: ...`` and exit 2; Ctrl-C (SIGINT) prints
    ``stopping: ...`` and exits 130. Nothing is lost either way: checkpoints and the
    resumption backup are only ever replaced whole, so the same command resumes the run.
    """
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.WARNING)
    from data import DataError
    from trainkit.distribute import StrategyError
    from trainkit.run_dir import RunError
    try:
        status = run()
    except (DataError, RunError, StrategyError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("\nstopping: interrupted (Ctrl-C); the last completed epoch is kept, and the same command "
              "resumes from it", file=sys.stderr)
        sys.exit(130)
    sys.exit(status)
