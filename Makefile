# Two commands on a fresh Debian 12/13 or Raspberry Pi OS machine: `make demo`, `make test`.
# Both install what is missing first (deploy/bootstrap.sh: apt packages as root, then .venv).

PYTHON ?= python3
VENV   := .venv
export PYTHON VENV

.PHONY: setup demo test test-slow bench clean

setup:
	@bash deploy/bootstrap.sh

demo: setup
	$(VENV)/bin/kiosk demo

test: setup
	@bash tests/run.sh

# Soak and scale runs (`-m slow`); not part of `make test`.
test-slow: setup
	@bash tests/run.sh -m slow

clean:
	rm -rf demo-out .pytest_cache build dist *.egg-info
