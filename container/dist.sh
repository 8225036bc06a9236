#!/usr/bin/env bash
# `make dist`: what the image installs, in dist/: the exchange's wheel, the locked
# requirements with their hashes, and a wheelhouse of them for Linux x86-64, CPython 3.11
# (Debian bookworm's python3, as on this machine), so the image build itself fetches
# nothing. pip's own configuration of this machine (extra indexes, constraints) is left out:
# the lock file says what goes in.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
rm -rf dist && mkdir -p dist/wheels
"$UV" build --quiet --all-packages --wheel --out-dir dist  # the exchange and its client
"$UV" export --quiet --frozen --no-dev --no-emit-workspace --output-file dist/requirements.txt
env -u PIP_FIND_LINKS -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
    "$UV" run --quiet --no-project --python 3.11 --with pip python -m pip download --quiet \
    --disable-pip-version-check --require-hashes --only-binary=:all: \
    --dest dist/wheels -r dist/requirements.txt
