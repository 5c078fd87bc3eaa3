#!/usr/bin/env bash
# Build a Debian bookworm base image with Python 3.11 without any container registry:
# debootstrap (minbase) from Debian's packages, this machine's CA bundle copied in, `docker import`.
# It stands in for python:3.11-slim-bookworm where no image registry can be reached (CI here);
# real deployments build FROM the official image (the Dockerfile's default PYTHON_IMAGE).
#
#   deploy/ci/base-image.sh [TAG]        (default fepflow-base:bookworm; needs root and debootstrap)
#
# The image is reused when it exists; FEPFLOW_BASE_REBUILD=1 builds it again.
set -euo pipefail
tag="${1:-fepflow-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
docker="${DOCKER:-docker}"

if [ -z "${FEPFLOW_BASE_REBUILD:-}" ] && "$docker" image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag exists"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }

rootfs="$(mktemp -d /tmp/fepflow-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
  bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"

# The machine's CA bundle: TLS to the package registries may go through a proxy whose CA only this
# bundle has. Kept as a local CA too, so update-ca-certificates inside later builds keeps it.
bundle="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
if [ -f "$bundle" ]; then
  cp "$bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  cp "$bundle" "$rootfs/usr/local/share/ca-certificates/host-bundle.crt"
fi
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' \
  - "$tag" >/dev/null
echo "built base image $tag"
