#!/usr/bin/env bash
# `make image`: build the exchange's image without pulling anything from a container
# registry, then prove it: run the walkthrough inside it, as its own non-root user.
#   1. the wheels and the locked requirements (dist/);
#   2. a Debian bookworm root filesystem made by debootstrap with container/packages.txt
#      (kept in build/image/ and reused while that list is unchanged);
#   3. that root filesystem committed as the base image, and the Containerfile built over
#      it (`buildah build --from`): the same file and steps as the registry build;
#   4. checks of the image: its user, its health check, and the walkthrough run in it.
# Needs root, debootstrap and buildah (`make image` installs them with apt when it can).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
WORK=${IMAGE_WORK:-$PWD/build/image}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
IMAGE=localhost/onceonly:$VERSION
BASE=localhost/onceonly-base:bookworm
BUILDAH=(buildah --storage-driver vfs --root "$WORK/storage" --runroot "$WORK/run")
started=$(date +%s)
say() { printf '[image %4ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }

for tool in buildah debootstrap; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install $tool" >&2; exit 2; }
done
mkdir -p "$WORK"

say "wheel, locked requirements and their wheelhouse (container/dist.sh)"
UV="$UV" container/dist.sh

packages=$(grep -v '^#' container/packages.txt | paste -sd, -)
stamp="$WORK/rootfs.packages"
if [ ! -d "$WORK/rootfs" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$packages" ]; then
    say "debootstrap bookworm with $packages"
    rm -rf "$WORK/rootfs" "$WORK/rootfs.partial" "$stamp"
    debootstrap --variant=minbase --include="$packages" bookworm "$WORK/rootfs.partial" \
        "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$WORK/debootstrap.log"
    mv "$WORK/rootfs.partial" "$WORK/rootfs"
    echo "$packages" > "$stamp"
    "${BUILDAH[@]}" rmi --force "$BASE" >/dev/null 2>&1 || true
fi
if ! "${BUILDAH[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then
    say "base image from the root filesystem"
    ctr=$("${BUILDAH[@]}" from scratch)
    "${BUILDAH[@]}" copy --quiet "$ctr" "$WORK/rootfs" / >/dev/null
    "${BUILDAH[@]}" commit --quiet "$ctr" "$BASE" >/dev/null
    "${BUILDAH[@]}" rm "$ctr" >/dev/null
fi

say "the Containerfile over it"
# Docker format: OCI image configuration has no place for the health check.
"${BUILDAH[@]}" build --quiet --isolation chroot --network host --format docker \
    --from "$BASE" --file Containerfile --tag "$IMAGE" . >/dev/null

"${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true  # earlier builds' images, now untagged

say "checks"
user=$("${BUILDAH[@]}" inspect --type image --format '{{.Docker.Config.User}}' "$IMAGE")
[ "$user" = "onceonly:onceonly" ] || { echo "the image runs as '$user', not onceonly" >&2; exit 1; }
health=$("${BUILDAH[@]}" inspect --type image --format '{{.Docker.Config.Healthcheck}}' "$IMAGE")
case "$health" in *livez*) ;; *) echo "the image has no liveness health check: $health" >&2; exit 1;; esac
ctr=$("${BUILDAH[@]}" from "$IMAGE")
trap '"${BUILDAH[@]}" rm "$ctr" >/dev/null' EXIT
run() { "${BUILDAH[@]}" run --isolation chroot --network host --user onceonly "$ctr" -- "$@"; }
[ "$(run id -u)" != 0 ] || { echo "the image's user is root" >&2; exit 1; }
if run touch /opt/onceonly/written 2>/dev/null; then
    echo "the image's user can write to its own code" >&2; exit 1
fi
run onceonly --version
say "the walkthrough inside the image"
run onceonly walkthrough > "$WORK/walkthrough.log" 2>&1 || {
    tail -40 "$WORK/walkthrough.log" >&2; exit 1; }
tail -1 "$WORK/walkthrough.log"
say "image $IMAGE built and checked"
