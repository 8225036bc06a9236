#!/bin/sh
# The image's build steps, run inside the image by the Containerfile's one RUN, whichever
# base it starts from: debian:bookworm-slim pulled from a registry, or the root filesystem
# container/build.sh made with debootstrap from container/packages.txt. One list of steps.
set -eu
BUILD=/tmp/build
PACKAGES=$(grep -v '^#' "$BUILD/container/packages.txt" | tr '\n' ' ')
# shellcheck disable=SC2086
if ! dpkg-query -W $PACKAGES >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES
fi
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
# A user of its own, no login, no password; its home is the one writable volume.
useradd --system --uid 10001 --user-group --home-dir /var/lib/onceonly --create-home \
    --shell /usr/sbin/nologin onceonly
# The locked dependencies from the wheelhouse `make dist` filled (checked against their
# hashes; nothing is fetched here), then the exchange's own wheels.
python3 -m venv /opt/onceonly
/opt/onceonly/bin/pip install --quiet --no-cache-dir --disable-pip-version-check --no-index \
    --find-links "$BUILD/dist/wheels" --require-hashes -r "$BUILD/dist/requirements.txt"
/opt/onceonly/bin/pip install --quiet --no-cache-dir --disable-pip-version-check --no-index \
    --no-deps "$BUILD"/dist/*.whl
/opt/onceonly/bin/onceonly --version
/opt/onceonly/bin/python3 -c 'import httptools, uvloop'  # what serve runs on (api/server.py)
