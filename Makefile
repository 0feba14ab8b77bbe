# megapool.aws — the two commands: `make up` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# The emulator `make up` leaves running for you; `make test` uses its own so it never wipes yours.
EMULATOR_PORT ?= 5000
TEST_EMULATOR_PORT ?= 5100
INVENTORY ?= inventories/local
# `make up` deploys the demo release (docs/demo.md); UP_VARS= builds the stack with the placeholder image instead.
UP_VARS ?= -e @inventories/demo.yml
COLLECTION_LINK := .collections/ansible_collections/megapool/aws

.PHONY: help
help: ## this list
	@grep -hE '^[a-z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev: $(BIN)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

.PHONY: install
install: $(BIN)/.runtime $(COLLECTION_LINK) ## .venv with the pinned runtime, collection linked from the checkout

.PHONY: install-dev
install-dev: install $(BIN)/.dev ## install + test tooling

.PHONY: emulator
emulator: install ## start the local AWS emulator (127.0.0.1:$(EMULATOR_PORT)), reuse it if running
	$(BIN)/python scripts/emulator.py start --port $(EMULATOR_PORT)

.PHONY: demo
demo: ## build the demo release images (megapool.local/megapool-demo:1.0.0, 1.0.1, 1.0.2-unhealthy; docs/demo.md)
	bash scripts/build_demo.sh 1.0.0
	bash scripts/build_demo.sh 1.0.1
	bash scripts/build_demo.sh 1.0.2-unhealthy --unhealthy

.PHONY: up
up: demo emulator ## build the demo images, start the emulator, build everything on inventories/local, print the status (fronts, one cluster)
	MEGAPOOL_EMULATOR_PORT=$(EMULATOR_PORT) $(BIN)/ansible-playbook playbooks/site.yml -i $(INVENTORY) $(UP_VARS)
	MEGAPOOL_EMULATOR_PORT=$(EMULATOR_PORT) $(BIN)/ansible-playbook playbooks/status.yml -i $(INVENTORY) $(UP_VARS)

.PHONY: teardown
teardown: emulator ## remove everything site.yml built on inventories/local
	MEGAPOOL_EMULATOR_PORT=$(EMULATOR_PORT) $(BIN)/ansible-playbook playbooks/teardown.yml -i $(INVENTORY)

.PHONY: down
down: ## stop the local AWS emulator
	@$(PYTHON) scripts/emulator.py stop --port $(EMULATOR_PORT)

.PHONY: test
test: install-dev ## the whole test suite (what CI runs)
	bash tests/run-all.sh

.PHONY: test-unit
test-unit: install-dev ## unit tests only (the unit stage of make test: tests/unit and tests/reliability, one worker per core)
	$(BIN)/pytest tests/unit tests/reliability -q -p no:cacheprovider -n auto

.PHONY: bench
bench: install-dev ## benchmarks: collection vs plain-modules peer, ec2_cluster vs aws_ec2 (ratios; fails if a no-op mutates)
	$(BIN)/python benchmarks/converge.py --compare
	$(BIN)/python benchmarks/inventory.py

.PHONY: clean
clean: down ## stop the emulator, remove .venv and generated state
	rm -rf $(VENV) .emulator .collections .cache tests/output
