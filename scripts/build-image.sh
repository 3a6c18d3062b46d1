#!/usr/bin/env bash
# Builds the Gatehouse container image from the Containerfile (docs/operations.md).
#
#   scripts/build-image.sh [--local-base [--bases-only]] [-t TAG]
#
# By default the stages start from node:20-bookworm-slim (pulled from a registry); BUILD_BASE and
# RUNTIME_BASE choose other bases. --local-base builds two Debian 13 (trixie) bases from Debian's packages
# with mmdebstrap instead, for machines that can reach a Debian mirror but no container registry: a build
# base (nodejs, npm, python3, make, g++: better-sqlite3 compiles from source where no prebuilt binary fits)
# and a smaller runtime base (nodejs, ca-certificates). Their tarballs are kept in GATEHOUSE_BASE_CACHE
# (default /var/tmp/gatehouse-base) and made again after GATEHOUSE_BASE_MAX_AGE_DAYS (default 30), so
# security updates arrive; the first build of them downloads Debian's packages (minutes), later ones
# reuse them. --bases-only stops once the local bases are imported.
#
# npm ci inside the build must trust the registry's certificate: behind a TLS-intercepting proxy, name the
# proxy's CA certificates (a PEM file) in GATEHOUSE_BUILD_CA; when unset, the certificates this machine adds
# to its system's set (/usr/local/share/ca-certificates/*.crt), if any, are used. The build stage trusts
# them; the image does not contain them.
#
# Environment: CONTAINER_ENGINE (default podman; docker works too without --local-base),
# GATEHOUSE_ENGINE_FLAGS (global engine options, e.g. "--storage-driver vfs"), GATEHOUSE_BUILD_FLAGS
# (build options, e.g. "--isolation chroot"), GATEHOUSE_IMAGE (the tag, default localhost/gatehouse:latest).
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${GATEHOUSE_IMAGE:-localhost/gatehouse:latest}"
local_base=0
bases_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --local-base) local_base=1 ;;
    --bases-only) bases_only=1 ;;
    -t|--tag) tag="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

read -ra engine <<< "${CONTAINER_ENGINE:-podman} ${GATEHOUSE_ENGINE_FLAGS:-}"
read -ra build_flags <<< "${GATEHOUSE_BUILD_FLAGS:-}"
base_args=()
[ -n "${BUILD_BASE:-}" ] && base_args+=(--build-arg "BUILD_BASE=$BUILD_BASE")
[ -n "${RUNTIME_BASE:-}" ] && base_args+=(--build-arg "RUNTIME_BASE=$RUNTIME_BASE")

if [ "$local_base" = 1 ]; then
  cache="${GATEHOUSE_BASE_CACHE:-/var/tmp/gatehouse-base}"
  max_age="${GATEHOUSE_BASE_MAX_AGE_DAYS:-30}"
  mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  mkdir -p "$cache"
  # name → Debian packages on top of minbase
  declare -A packages=(
    [build]="nodejs,npm,ca-certificates,python3,make,g++"
    [runtime]="nodejs,ca-certificates"
  )
  for name in build runtime; do
    tarball="$cache/$name.tar"
    image="localhost/gatehouse-base:$name"
    if [ -f "$tarball" ] && [ -n "$(find "$tarball" -mtime "+$max_age")" ]; then
      echo "# $tarball is older than $max_age days: building it again"
      rm -f "$tarball"
      "${engine[@]}" rmi -f "$image" >/dev/null 2>&1 || true
    fi
    # Anything else at that path (a directory an earlier run left) is not a base: made again.
    if [ -e "$tarball" ] && [ ! -f "$tarball" ]; then rm -rf "$tarball"; fi
    if [ ! -f "$tarball" ]; then
      command -v mmdebstrap >/dev/null || { echo "build-image.sh: --local-base needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
      echo "# building the $name base ($tarball: Debian trixie minbase + ${packages[$name]})"
      rm -rf "$tarball.part"
      # --format=tar: mmdebstrap reads the format from the file name otherwise, and `.part` made a directory.
      mmdebstrap --quiet --format=tar --variant=minbase --include="${packages[$name]}" trixie "$tarball.part" "$mirror"
      mv "$tarball.part" "$tarball"
    fi
    if ! "${engine[@]}" image exists "$image" 2>/dev/null; then
      echo "# importing $image"
      "${engine[@]}" import --quiet --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "$tarball" "$image" >/dev/null
    fi
  done
  base_args=(--build-arg BUILD_BASE=localhost/gatehouse-base:build --build-arg RUNTIME_BASE=localhost/gatehouse-base:runtime)
  [ "$bases_only" = 1 ] && exit 0
fi

ca_pem=""
if [ -n "${GATEHOUSE_BUILD_CA:-}" ]; then
  ca_pem="$(cat "$GATEHOUSE_BUILD_CA")"
elif compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  ca_pem="$(cat /usr/local/share/ca-certificates/*.crt)"
  echo "# the build stage trusts this machine's added CAs (/usr/local/share/ca-certificates)"
fi
[ -n "$ca_pem" ] && base_args+=(--build-arg "BUILD_CA_PEM=$ca_pem")

format=()
# podman writes OCI images by default, which have no HEALTHCHECK; the docker format keeps it.
[ "$(basename "${engine[0]}")" = podman ] && format=(--format docker)

echo "# building $tag"
"${engine[@]}" build "${format[@]}" "${build_flags[@]}" "${base_args[@]}" -f Containerfile -t "$tag" .
