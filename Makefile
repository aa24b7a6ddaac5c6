# The two commands a newcomer runs: `make demo` and `make test` (see README.md). Both set up what is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
AZ := $(VENV)/bin/az
# The `az` host loads extensions from its system extension directory (<site-packages>/azure-cli-extensions); we put
# ours there as a link to the working tree, so `.venv/bin/az hsm-backup ...` always runs the code in this checkout.
# The directory is asked of az itself, so no Python version is written here.
EXT_STAMP := $(VENV)/.ext-linked
NODE_DIR := tests/stack/node
AZURITE := $(NODE_DIR)/node_modules/.bin/azurite-blob
PYTEST_ARGS ?=

.PHONY: setup demo test test-compat compat-hosts lint wheel index clean stack-up stack-down bench record

setup: $(VENV)/.az-host $(VENV)/.dev $(EXT_STAMP) $(AZURITE)

$(VENV)/.az-host: requirements/az-host.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/az-host.txt
	$(PY) -m pip install -q --no-deps azure-cli==2.91.0
	touch $@

$(VENV)/.dev: requirements/dev.txt $(VENV)/.az-host
	$(PY) -m pip install -q -r requirements/dev.txt
	touch $@

# egg-info gives az the extension's name, version and azext_metadata; the package itself is a symlink.
$(EXT_STAMP): setup.py azext_hsmbackup/azext_metadata.json $(VENV)/.dev
	link="$$($(PY) -c 'from azure.cli.core.extension import EXTENSIONS_SYS_DIR as d; print(d)')/hsmbackup" && \
	rm -rf "$$link" && mkdir -p "$$link" && \
	ln -s $(CURDIR)/azext_hsmbackup "$$link/azext_hsmbackup" && \
	$(PY) setup.py -q egg_info --egg-base "$$link" >/dev/null
	rm -rf build
	touch $@

$(AZURITE): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(PY) -m tests.demo

lint: setup
	$(VENV)/bin/ruff check azext_hsmbackup tests tools setup.py
	$(VENV)/bin/ruff format --check azext_hsmbackup tests tools setup.py
	$(VENV)/bin/vermin --no-tips -q --violations --eval-annotations -t=3.8- azext_hsmbackup setup.py
	# The layers of docs/architecture.md, as the contracts in setup.cfg: an upward import fails here.
	$(VENV)/bin/lint-imports --no-cache
	# The recipes of examples/ (docs/unattended.md): the script, the YAML of every recipe, and the GitHub workflow with
	# the shell of its run: steps. tests/unit/test_recipes.py checks what each recipe must contain.
	$(VENV)/bin/shellcheck examples/*.sh
	$(VENV)/bin/yamllint --strict -c .yamllint.yml examples
	$(VENV)/bin/actionlint -shellcheck=$(VENV)/bin/shellcheck examples/github-actions/*.yml
	$(MAKE) --no-print-directory azdev-lint

# ---- azdev: the Azure CLI's own linters, as the official extension repository runs them on every extension ----
# `azdev linter` (command table, flags, help; every severity) and `azdev style` (pylint and flake8 with the settings
# of that repository, in .azdev/). azdev works on an extension repository: a git repository with src/<name>/. We
# make one in .venv-azdev/ext-repo/ holding a copy of the extension's files, refreshed on every run, and point azdev
# and its az at config dirs inside it: nothing is read from or written to the user's ~/.azure or ~/.azdev. (az skips
# a dev extension source whose folder name starts with a dot, so the repository cannot be a dot folder of its own.)
# `azdev setup` is not used: without an azure-cli clone it installs the newest azure-cli and a test package from
# GitHub. The tool environment .venv-azdev/ instead gets pinned packages (requirements/azdev.txt: azdev 0.2.13, and
# the az host of requirements/az-host.txt, which the linter loads the extension into), then the two azdev commands
# that setup would run: `azdev extension repo add` and `azdev extension add`.
AZDEV_VENV := .venv-azdev
AZDEV_WORK := $(AZDEV_VENV)/ext-repo
AZDEV_EXT := $(AZDEV_WORK)/src/hsmbackup
# The linter's link probe (rule broken_site_link) GETs every URL of the help that is not in backticks. Every example
# URL of ours is in backticks, so it probes nothing; the proxy below (a closed port on this machine) makes sure no
# probe, nor any other request of azdev, leaves the machine: a new URL written without backticks fails the lint as
# broken instead of being fetched. AZDEV_CLI_REPO_PATH: the azure-cli repository azdev would read its settings from;
# ours holds only scripts/ci/cmdcov.yml (.azdev/cmdcov.yml says why), with no command module in it.
AZDEV_ENV := VIRTUAL_ENV=$(CURDIR)/$(AZDEV_VENV) PATH=$(CURDIR)/$(AZDEV_VENV)/bin:$$PATH \
	AZURE_CONFIG_DIR=$(CURDIR)/$(AZDEV_WORK)/azure AZDEV_CONFIG_DIR=$(CURDIR)/$(AZDEV_WORK)/azdev \
	AZDEV_CLI_REPO_PATH=$(CURDIR)/$(AZDEV_WORK)/cli AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_NO_COLOR=true \
	HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 \
	https_proxy=http://127.0.0.1:9 NO_PROXY= no_proxy=
AZDEV := $(AZDEV_ENV) $(AZDEV_VENV)/bin/azdev
# uv (from requirements/dev.txt) installs the tool environment in seconds; its cache is the one of the version
# matrix (tests/compat/hosts.py), which downloads the same azure-cli-core.
UV_ENV := UV_CACHE_DIR=$(CURDIR)/.venv-az/.cache/uv UV_NO_PROGRESS=1

# The linter loads every command module of its az, with every argument. Of azure-cli's modules this environment
# keeps three: keyvault, whose `az keyvault list` an example of ours runs (the linter parses it), storage, which
# azure-cli-core 2.91.0 needs for the linter to load at all (loading its commands sets the invocation's command
# string, which argument loading then reads), and cloud, which `azdev test` calls to set its profile. The others would
# need some 200 MB of SDKs and a minute to load.
$(AZDEV_VENV)/.installed: requirements/azdev.txt requirements/az-host.txt $(VENV)/.dev
	rm -rf $(AZDEV_VENV)
	$(UV_ENV) $(VENV)/bin/uv venv -q --seed -p $(PYTHON) $(AZDEV_VENV)
	$(UV_ENV) $(VENV)/bin/uv pip install -q -p $(AZDEV_VENV)/bin/python -r requirements/azdev.txt
	$(UV_ENV) $(VENV)/bin/uv pip install -q -p $(AZDEV_VENV)/bin/python --no-deps azure-cli==2.91.0
	find $(AZDEV_VENV)/lib/python3*/site-packages/azure/cli/command_modules -mindepth 1 -maxdepth 1 \
		! -name __init__.py ! -name keyvault ! -name storage ! -name cloud -exec rm -rf {} +
	touch $@

# The extension repository and the editable install of the extension in it; again when setup.py changes.
$(AZDEV_WORK)/.ext-added: setup.py $(AZDEV_VENV)/.installed
	rm -rf $(AZDEV_WORK)
	mkdir -p $(AZDEV_EXT)
	git init -q $(AZDEV_WORK)
	$(MAKE) --no-print-directory azdev-copy
	$(AZDEV) extension repo add $(AZDEV_WORK) >/dev/null
	$(AZDEV) extension add hsmbackup >/dev/null
	touch $@

# The extension's files as azdev sees them in src/hsmbackup/: setup.py and what it reads, the package, and the
# linter's exclusions. Copies, not links: flake8 does not descend into a linked folder.
.PHONY: azdev-copy azdev-lint azdev-test
azdev-copy:
	rm -rf $(AZDEV_EXT)/azext_hsmbackup $(AZDEV_EXT)/docs
	mkdir -p $(AZDEV_EXT)/docs
	cp setup.py HISTORY.rst linter_exclusions.yml $(AZDEV_EXT)/
	cp docs/extension.md $(AZDEV_EXT)/docs/
	tar --exclude=__pycache__ -cf - azext_hsmbackup | tar -xf - -C $(AZDEV_EXT)
	cp .azdev/pylintrc .azdev/.flake8 $(AZDEV_WORK)/
	mkdir -p $(AZDEV_WORK)/cli/scripts/ci
	cp .azdev/cmdcov.yml $(AZDEV_WORK)/cli/scripts/ci/

# Every rule type but command_test_coverage: those rules judge what a pull request changes (the official repository
# runs them apart, with --repo --src --tgt), and without branches to compare they download their settings.
azdev-lint: $(AZDEV_WORK)/.ext-added
	@$(MAKE) --no-print-directory azdev-copy >/dev/null
	$(AZDEV) linter hsmbackup --min-severity low --rule-types params commands command_groups help_entries
	$(AZDEV) style hsmbackup

# The scenario tests replayed as the official repository's CI runs them (`make test` runs this too). --profile latest:
# azdev would otherwise ask `az cloud show` for it (hence the cloud module kept above).
azdev-test: $(AZDEV_WORK)/.ext-added
	@$(MAKE) --no-print-directory azdev-copy >/dev/null
	$(AZDEV) test hsmbackup --profile latest --no-exitfirst </dev/null

# Four workers, each with its own local stack: the end-to-end tests mostly wait (az start-up, jobs, Retry-After),
# so on 2 cores four of them overlap that waiting (10.5 min in one process, 3.6 min in four, measured).
PYTEST_WORKERS ?= 4

# loadgroup: the tests of one az release of the version matrix stay on one worker (tests/e2e/conftest.py).
# --basetemp in the checkout: pytest prunes old temporary folders of the same user, and a second checkout's run would
# otherwise delete this run's stacks and config dirs from under it.
PYTEST_RUN = $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup --basetemp=$(CURDIR)/.pytest-tmp

test: setup lint compat-hosts azdev-test
	$(PYTEST_RUN) $(PYTEST_ARGS)

# The az releases of the version matrix (README "Supported az versions"), each in .venv-az/<version>/ with the pins
# its own metadata names; an install is kept until those pins change (a few seconds when nothing changed).
compat-hosts: $(VENV)/.dev
	$(PY) -m tests.compat.hosts

# The version matrix alone.
test-compat: setup compat-hosts
	$(PYTEST_RUN) tests/e2e/test_compat_matrix.py $(PYTEST_ARGS)

# The scenario tests of azext_hsmbackup/tests/latest (azure-cli-testsdk) live against a fresh local stack, which
# writes their recordings anew, scrubbed of tokens, SAS signatures, keys and local ports (tests/record.py starts the
# stack, runs them with AZURE_TEST_RUN_LIVE=true and its environment, and stops it). `make test` replays them offline.
# `make record PYTEST_ARGS="-k show"` records one.
record: setup
	$(PY) -m tests.record $(PYTEST_ARGS)

wheel: $(VENV)/.dev
	rm -rf dist build
	$(PY) -m pip wheel -q --no-deps --no-build-isolation -w dist .
	rm -rf build *.egg-info
	@ls dist/*.whl

# An extension index of our own (README "Host your own extension index"): dist/index.json for the wheel of
# `make wheel`, to be served with it from INDEX_BASE_URL (https; plain http only on this machine, for a try with
# `python3 -m http.server -b 127.0.0.1 -d dist 8000`). INDEX_MERGE=<the index.json already hosted, outside dist/>
# keeps the versions it lists.
INDEX_BASE_URL ?= http://localhost:8000
INDEX_MERGE ?=

index: wheel
	$(PY) -m tools.make_index --base-url '$(INDEX_BASE_URL)' $(if $(INDEX_MERGE),--merge '$(INDEX_MERGE)') dist

stack-up: setup
	$(PY) -m tests.stack up

stack-down:
	$(PY) -m tests.stack down

clean:
	rm -rf $(VENV) .venv-az $(AZDEV_VENV) $(NODE_DIR)/node_modules dist build .stack .stack-record *.egg-info .pytest_cache .pytest-tmp .ruff_cache

bench: setup
	$(PY) -m tests.bench

# Mutation testing (docs/quality.md): mutmut over the modules that carry the promises (`[mutmut]` in setup.cfg) against
# tests/unit. `make mutation MODULE=model.sas` runs one module. Tens of minutes on 2 cores, so it is not part of
# `make test`. Fails when a module kills less than 90% of its mutants.
.PHONY: mutation
MODULE ?=

$(VENV)/.mutation: requirements/mutation.txt $(VENV)/.dev
	$(PY) -m pip install -q -r requirements/mutation.txt
	touch $@

mutation: $(VENV)/.dev $(VENV)/.mutation
	rm -rf mutants
	@echo "mutmut run (progress in mutants.log)..."
	$(VENV)/bin/mutmut run --max-children 2 $(if $(MODULE),"azext_hsmbackup.$(MODULE).*") > mutants.log 2>&1 \
		|| { tail -c 3000 mutants.log; exit 1; }
	$(PY) -m tests.mutation_summary $(MODULE)
