# municloud — the two commands of the README, plus `make down`.
#   make up     set-up + `pulumi up` of the dev stack; prints the endpoints
#   make test   set-up + the whole test suite (unit, integration, stack, infra, dr, security, load)
#   make down   destroy the dev stack and remove every Docker object labelled for it
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ENV := source tools/bootstrap/env.sh
STACK ?= dev
PYTEST_ARGS ?=

.PHONY: setup up down test test-unit rehearse-two-sites

setup:
	@bash tools/bootstrap/setup.sh

up: setup
	@$(ENV); bash tools/bootstrap/stack-up.sh "$(STACK)"

down:
	@bash tools/bootstrap/venv.sh; bash tools/bootstrap/docker-engine.sh; bash tools/bootstrap/pulumi.sh
	@$(ENV); bash tools/bootstrap/stack-down.sh "$(STACK)"

test: setup
	@$(ENV); mkdir -p "$$MC_STATE/reports"; \
	  python -m pytest $(PYTEST_ARGS) --junitxml="$$MC_STATE/reports/junit.xml" \
	    -o junit_family=xunit2 --durations=25

# the fast inner loop: needs only the venv (no engine, no Pulumi build, no images); DOCKER_HOST
# names no engine, so a test marked unit that reaches for one fails here instead of passing slowly;
# one pytest-xdist worker per core (unit tests share no state between processes)
test-unit:
	@bash tools/bootstrap/venv.sh
	@$(ENV); DOCKER_HOST=unix:///nonexistent/docker.sock python -m pytest -m unit -q -n auto $(PYTEST_ARGS)

# the whole-site rehearsal on the machine's two site hosts (docs/dr.md "Two site hosts"): its own
# stack across both hosts, the primary host powered off, the DR site promoted, the old primary fenced
rehearse-two-sites: setup
	@$(ENV); python -m pytest -p no:cacheprovider -q -s tests/dr/sites/test_two_site_rehearsal.py $(PYTEST_ARGS)
