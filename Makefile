# The two commands of the README. Both run bin/setup first (idempotent).
.PHONY: setup demo test lint slither up down

setup:
	@bin/setup

demo: setup
	.venv/bin/zkpot demo

test: setup lint
	.venv/bin/python -m pytest -ra

lint:
	.venv/bin/ruff check
	.venv/bin/mypy

slither: setup
	bin/slither

up: setup
	.venv/bin/zkpot node up

down:
	.venv/bin/zkpot node down
