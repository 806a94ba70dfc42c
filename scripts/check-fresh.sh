#!/usr/bin/env bash
# Proves the README's two commands on a throwaway, minimal Debian 12 system: a root made by
# `debootstrap --variant=minbase bookworm`, the committed tree copied in (`git archive HEAD`, so an
# uncommitted file cannot hide a missing one), then inside a chroot, exactly as the README writes
# them: `bash scripts/run.sh --epochs 1` and `bash scripts/test.sh`. Prints how long each stage took.
#
# Usage: scripts/check-fresh.sh [--keep]        (as root; --keep leaves the root for inspection)
# Environment:
#   TINYML_FRESH_CACHE   where the bootstrapped base system is cached as a tarball
#                        (default /var/cache/tinyml/fresh); only debootstrap's output is cached,
#                        never anything installed by the project's scripts
#   TINYML_FRESH_WORK    where the throwaway root is made (default /var/tmp)
#   TINYML_DEBIAN_MIRROR the Debian mirror (default http://deb.debian.org/debian)
#   CI, TINYML_FUZZ_SECONDS, OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE are passed into the chroot.
# Exit status: 0 both commands passed; 1 one of them failed; 2 usage (not root, no git tree);
#              3 the Debian mirror cannot be reached (one loud line says so).
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE=$PWD

KEEP=0
[[ "${1:-}" == "--keep" ]] && KEEP=1
MIRROR=${TINYML_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${TINYML_FRESH_CACHE:-/var/cache/tinyml/fresh}
BASE_TAR=$CACHE/bookworm-minbase.tar

if [[ $(id -u) -ne 0 ]]; then
  echo "check-fresh.sh: must run as root (debootstrap and chroot need it)" >&2
  exit 2
fi
if ! git -C "$SOURCE" rev-parse --verify -q HEAD >/dev/null; then
  echo "check-fresh.sh: $SOURCE is not a git work tree with a commit" >&2
  exit 2
fi

stage_start=$SECONDS
stage() {  # prints how long the previous stage took
  echo "== check-fresh.sh: $1 took $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}

# --- the mirror: a loud line and exit 3 when it cannot be reached, never a silent pass
mirror_host=${MIRROR#*://}
mirror_host=${mirror_host%%/*}
if ! timeout 30 bash -c "exec 3<>/dev/tcp/$mirror_host/80" 2>/dev/null; then
  echo "!!!!! check-fresh.sh: THE DEBIAN MIRROR $MIRROR CANNOT BE REACHED: fresh-system check NOT run !!!!!" >&2
  exit 3
fi

# --- debootstrap itself (the host's package; installed here if missing)
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

# --- the base system, cached as debootstrap left it
mkdir -p "$CACHE"
if [[ ! -s "$BASE_TAR" ]]; then
  tmp_base=$(mktemp -d "${TINYML_FRESH_WORK:-/var/tmp}/tinyml-base.XXXXXX")
  if ! debootstrap --variant=minbase bookworm "$tmp_base" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
    rm -rf --one-file-system "$tmp_base"
    if ! grep -q "Base system installed" "$CACHE/debootstrap.log"; then
      tail -5 "$CACHE/debootstrap.log" >&2
    fi
    echo "check-fresh.sh: debootstrap failed (log: $CACHE/debootstrap.log)" >&2
    exit 1
  fi
  tar -C "$tmp_base" -cf "$BASE_TAR.partial" . && mv "$BASE_TAR.partial" "$BASE_TAR"
  rm -rf --one-file-system "$tmp_base"
  stage "debootstrap (cached as $BASE_TAR)"
fi

# --- a throwaway root from the cached base, with the committed tree in /src/tinyml
ROOT=$(mktemp -d "${TINYML_FRESH_WORK:-/var/tmp}/tinyml-fresh.XXXXXX")
MOUNTS=()
cleanup() {
  local status=$?
  if ((status != 0)); then
    echo "== check-fresh.sh: FAILED (status $status) after $((SECONDS - stage_start)) s in the stage above" >&2
  fi
  # Processes still running in the root (apt's helpers, a stuck test) would keep the mounts busy.
  for p in /proc/[0-9]*; do
    if [[ "$(readlink "$p/root" 2>/dev/null)" == "$ROOT" ]]; then kill -9 "${p#/proc/}" 2>/dev/null || true; fi
  done
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true
  done
  if grep -q " $ROOT/" /proc/self/mounts; then
    echo "check-fresh.sh: something is still mounted under $ROOT; it is left in place" >&2
  elif ((KEEP)); then
    echo "check-fresh.sh: the root is kept in $ROOT"
  else
    rm -rf --one-file-system "$ROOT"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tar -C "$ROOT" -xf "$BASE_TAR"
# The suites a Debian 12 installation has: the release, its updates and security updates.
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mkdir -p "$ROOT/src/tinyml"
git -C "$SOURCE" archive HEAD | tar -x -C "$ROOT/src/tinyml"
stage "fresh root from the cache and git archive HEAD ($(git -C "$SOURCE" rev-parse --short HEAD))"

mount -t proc proc "$ROOT/proc" && MOUNTS+=("$ROOT/proc")
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts" && MOUNTS+=("$ROOT/dev/pts")

in_root() {  # runs a command line in the root with a clean environment, as a fresh login would
  # In the background and waited for: bash runs a trap (Ctrl-C, a CI time-out) only between
  # commands, and `wait` is one it interrupts, so the clean-up stops the root's processes at once.
  chroot_cmd "$1" &
  wait $!
}
chroot_cmd() {
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" TINYML_FUZZ_SECONDS="${TINYML_FUZZ_SECONDS:-}" \
    ${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE} \
    ${OPENBLAS_L2_SIZE:+OPENBLAS_L2_SIZE=$OPENBLAS_L2_SIZE} \
    /bin/bash -c "cd /src/tinyml && $1"
}

echo "== check-fresh.sh: bash scripts/run.sh --epochs 1"
in_root "bash scripts/run.sh --epochs 1"
stage "bash scripts/run.sh --epochs 1 (installs, builds, runs the demo)"

echo "== check-fresh.sh: bash scripts/test.sh"
in_root "bash scripts/test.sh"
stage "bash scripts/test.sh"
echo "== check-fresh.sh: passed on a fresh Debian 12 root"
