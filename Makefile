# ECC: two commands. `make run` starts the whole system on embedded defaults;
# `make test` installs what the suite needs and runs it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_PACKAGES := mosquitto
TEST_PACKAGES := mosquitto mosquitto-clients chromium ffmpeg fonts-noto-cjk \
	gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-base gstreamer1.0-libav gstreamer1.0-tools python3-gi
BENCH_PACKAGES := $(TEST_PACKAGES) janus

.PHONY: run test bench lint format system-run system-test system-bench clean

run: system-run $(BIN)/.installed
	$(BIN)/ecc run

test: system-test $(BIN)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: system-bench $(BIN)/.installed-test
	@for b in bench/*.py; do echo "== $$b" >&2; $(BIN)/python $$b $(BENCH_ARGS) || exit 1; done

lint: $(BIN)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

system-run:
	@scripts/ensure-packages $(RUN_PACKAGES)

system-test:
	@scripts/ensure-packages $(TEST_PACKAGES)

system-bench:
	@scripts/ensure-packages $(BENCH_PACKAGES)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BIN)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(BIN)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $@ $(BIN)/.installed

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
