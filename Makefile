# Two commands do all set-up: `make demo` and `make test`.
# uv is used from PATH, else installed once into .tools/ with the machine's Python 3.11+.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTEST_ARGS ?=

.PHONY: env demo test lint bench walkthrough browser node oidc-provider mutation dist image buildah

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

env: $(UV)
	$(UV) sync --locked --all-groups

demo: env
	$(UV) run onceonly demo

walkthrough: env
	$(UV) run onceonly walkthrough

# The browser tests drive Debian's Chromium: installed here when it is missing and this
# user may (root); otherwise those tests fail saying how to install it.
browser:
	@test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# The signature tests run a verifier in Node (its standard library only): likewise.
node:
	@command -v node >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs)

# The sign-in tests' (and the demo's) OpenID provider: panva's oidc-provider from npm, as
# pinned by tests/support/oidc_provider/package-lock.json.
oidc-provider: node
	cd tests/support/oidc_provider && npm ci --no-audit --no-fund

# Lint, the import contracts ([tool.importlinter] in pyproject.toml), the tests, then mutation
# testing of the mutated modules that changed since mutation/checked.json (seconds when none),
# then the image built and the walkthrough run inside it (fails saying what to install when
# buildah or debootstrap is missing and cannot be installed here).
test: env browser node oidc-provider
	$(UV) run ruff check src tests benchmarks
	$(UV) run lint-imports --no-cache
	$(UV) run pytest $(PYTEST_ARGS)
	MUTATION_JOBS=$(MUTATION_JOBS) $(UV) run python mutation/quick.py
	$(MAKE) image

bench: env
	$(UV) run --group bench python -m benchmarks

# Mutation testing of the security rules (domain/, the audit tree maths, the crypto wrappers)
# against the fast unit tests; fails when a mutant survives that mutation/survivors.txt does
# not list, and records what passed in mutation/checked.json. Long (`make test` runs only the
# modules that changed); MUTANTS='onceonly.domain.policy*' runs one module.
MUTANTS ?=
MUTATION_JOBS ?= 1
# It starts from no cache: mutmut keeps a function's results while its source is unchanged,
# even when its tests changed, and what passes is recorded as checked against today's tests.
mutation: env
	rm -rf mutants
	nice -n 19 $(UV) run mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS)
	$(UV) run python mutation/check.py --record

# The release's files for the image (container/dist.sh): the wheel, the locked requirements
# and their wheelhouse in dist/.
dist: env
	UV=$(UV) container/dist.sh

# The image builders (Debian's debootstrap and buildah): installed when missing and this
# user may (root); otherwise `make image` says what to install.
buildah:
	@(command -v buildah >/dev/null && command -v debootstrap >/dev/null) || \
		[ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			buildah debootstrap)

# The OCI image from a debootstrap root filesystem, no registry needed, and the walkthrough
# run inside it (container/build.sh; the same Containerfile a registry build uses).
image: env buildah
	UV=$(UV) container/build.sh
