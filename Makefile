# The two commands of the README. Both run bin/setup first (idempotent).
.PHONY: setup demo test test-fast lint slither up down

setup:
	@bin/setup

demo: setup
	.venv/bin/zkpot demo

# The whole suite, in two xdist workers (each with its own anvil and IPFS; a module stays
# on one worker, modules with slow tests start first); the slowest tests are listed at
# the end of the log.
XDIST = -n 2 --dist loadfile --no-loadscope-reorder

test: setup lint
	.venv/bin/python -m pytest -ra --durations=30 $(XDIST)

# The edit loop: everything not marked slow (the whole suite stays `make test`).
test-fast: setup lint
	.venv/bin/python -m pytest -ra -m "not slow" --durations=15 $(XDIST)

lint:
	.venv/bin/ruff check
	.venv/bin/mypy

slither: setup
	bin/slither

up: setup
	.venv/bin/zkpot node up

down:
	.venv/bin/zkpot node down
