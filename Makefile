# Two commands on a fresh Debian 12/13 or Raspberry Pi OS machine: `make demo`, `make test`.
# Both install what is missing first (deploy/bootstrap.sh: apt packages as root, then .venv).

PYTHON ?= python3
VENV   := .venv
export PYTHON VENV

.PHONY: setup demo test test-slow bench clean dist test-deploy test-debian13 check

setup:
	@bash deploy/bootstrap.sh

demo: setup
	$(VENV)/bin/kiosk demo

test: setup
	@bash tests/run.sh

# The architecture's rules (docs/architecture.md): import contracts, then mypy --strict on the core.
check: setup
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy -p kiosk.domain -p kiosk.documents -p kiosk.eligibility -p kiosk.store -p kiosk.services \
	    -p kiosk.privacy -p kiosk.app -p kiosk.errors -p kiosk.clock -p kiosk.config -p kiosk.logs -p kiosk.masking \
	    -p kiosk.text -p kiosk.simulated -p sync

# Soak and scale runs (`-m slow`); not part of `make test`.
test-slow: setup
	@bash tests/run.sh -m slow

# The application wheel for devices, its checksum, and the deploy/ bundle (docs/deploy.md).
dist: setup
	@bash deploy/dist.sh

# Provisioning end to end: a Debian 13 root filesystem, provision.sh, kiosk doctor,
# the Ansible playbook through a chroot connection (as root; installs its own tools).
test-deploy: setup
	@bash tests/deploy/run.sh

# The README's two commands on a fresh Debian 13 root (git, make, python3 only; mmdebstrap, as root):
# a clone of the committed HEAD, `make setup` with the network, then `make test` and `make demo`
# in a chroot with loopback only (tests/debian13/run.sh). No host .venv needed.
test-debian13:
	@bash tests/debian13/run.sh

clean:
	rm -rf demo-out .pytest_cache build dist *.egg-info
