#!/usr/bin/env bash
# Builds the Docker image erp-rehearsal/postgres:15 from Debian packages: no container registry is
# reachable, so the official postgres image cannot be pulled. The image honours the official image's
# contract (POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, `postgres [args...]`, pg_isready on
# PATH), which is what @testcontainers/postgresql needs.
#
# Skips the build when the image exists and was built from this very recipe. The debootstrap rootfs
# is cached as a tarball under /var/cache/erp-rehearsal, so a rebuild on the same machine is fast.
#
# Usage (as root, with a running Docker engine: bash .ci/install-docker.sh):
#   bash .ci/build-postgres-image.sh
set -euo pipefail

IMAGE=erp-rehearsal/postgres:15
SUITE=bookworm
PACKAGES=postgresql-15,postgresql-client-15
CACHE_DIR=/var/cache/erp-rehearsal
ROOTFS_TAR=$CACHE_DIR/rootfs-$SUITE-minbase-postgresql-15.tar
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENTRYPOINT_SRC=$HERE/postgres-image/docker-entrypoint.sh
# Changing this script or the entrypoint changes the recipe, and so rebuilds the image.
RECIPE=$(cat "${BASH_SOURCE[0]}" "$ENTRYPOINT_SRC" | sha256sum | cut -c1-16)
RECIPE_LABEL=erp-rehearsal.recipe

say() { printf 'build-postgres-image: %s\n' "$*"; }

# Runs a step and prints how long it took.
timed() {
  local label=$1 t0 ms
  shift
  t0=$(date +%s%3N)
  "$@"
  ms=$(($(date +%s%3N) - t0))
  say "$label took $((ms / 1000)).$((ms % 1000 / 100)) s"
}

# The Debian archive apt already uses: the first `deb` entry (one-line or deb822 format) of a
# Debian release suite with a `main` component. Third-party repositories (pgdg, nodesource,
# docker) use other suite or component names, so they are skipped.
debian_mirror() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    if [ -f "$f" ]; then files+=("$f"); fi
  done
  ((${#files[@]})) || return 0
  awk '
    function flush(   n, s, i) {
      if (!found && types ~ /(^|[ \t])deb([ \t]|$)/ && uri ~ /^https?:\/\// && (" " comps " ") ~ /[ \t]main[ \t]/) {
        n = split(suites, s, /[ \t]+/)
        for (i = 1; i <= n; i++) if (s[i] ~ releases) { print uri; found = 1; break }
      }
      types = uri = suites = comps = ""
    }
    BEGIN { releases = "^(bookworm|trixie|bullseye|oldstable|stable|testing|unstable|sid)$" }
    FNR == 1 { flush() }
    /^[ \t]*#/ { next }
    /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0; next }
    /^URIs:/ { uri = $2; next }
    /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0; next }
    /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0; next }
    /^[ \t]*$/ { flush(); next }
    /^deb[ \t]/ {
      sub(/^deb[ \t]+(\[[^]]*\][ \t]*)?/, "")
      types = "deb"; uri = $1; suites = $2; comps = ""
      for (i = 3; i <= NF; i++) comps = comps " " $i
      flush()
    }
    END { flush() }
  ' "${files[@]}"
}

install_debootstrap() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

# debootstrap into a scratch directory, then store it as the cached tarball (atomically, so an
# interrupted run never leaves a truncated cache behind).
bootstrap_rootfs() {
  local mirror=$1 dir=$scratch/debootstrap
  if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir" "$mirror" \
    >"$CACHE_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$CACHE_DIR/debootstrap.log" >&2
    return 1
  fi
  # Not needed at run time: downloaded .debs, apt lists, and the Debian package's default cluster
  # (15/main; the entrypoint initialises $PGDATA instead).
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
    "$dir"/var/lib/postgresql/15 "$dir"/etc/postgresql/15
  tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.partial" .
  mv "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
  rm -rf "$dir"
}

# --numeric-owner: keep the rootfs' own uids (its postgres user), not the host's by name.
prepare_rootfs() {
  local dir=$1
  tar --numeric-owner -C "$dir" -xf "$ROOTFS_TAR"
  install -D -m 0755 "$ENTRYPOINT_SRC" "$dir/usr/local/bin/docker-entrypoint.sh"
}

import_image() {
  local dir=$1
  tar --numeric-owner -C "$dir" -c . | docker import \
    -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    -c 'CMD ["postgres"]' \
    -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV PGDATA=/var/lib/postgresql/data' \
    -c 'ENV LANG=C.UTF-8' \
    -c 'EXPOSE 5432' \
    -c "LABEL $RECIPE_LABEL=$RECIPE" \
    - "$IMAGE" >/dev/null
}

built_recipe=$(docker image inspect --format "{{index .Config.Labels \"$RECIPE_LABEL\"}}" "$IMAGE" 2>/dev/null || true)
if [ "$built_recipe" = "$RECIPE" ]; then
  say "$IMAGE already built from this recipe ($RECIPE); nothing to do"
  exit 0
fi
[ -z "$built_recipe" ] || say "$IMAGE was built from another recipe ($built_recipe); rebuilding"

mkdir -p "$CACHE_DIR"
scratch=$(mktemp -d /var/tmp/erp-rehearsal-postgres-image.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
if [ -s "$ROOTFS_TAR" ]; then
  say "using cached rootfs $ROOTFS_TAR"
else
  command -v debootstrap >/dev/null || timed "apt-get install debootstrap" install_debootstrap
  mirror=$(debian_mirror)
  if [ -z "$mirror" ]; then
    say "no Debian archive found in /etc/apt/sources.list{,.d}; cannot debootstrap" >&2
    exit 1
  fi
  say "debootstrap $SUITE from $mirror (log: $CACHE_DIR/debootstrap.log)"
  timed "debootstrap" bootstrap_rootfs "$mirror"
fi

mkdir "$scratch/rootfs"
timed "rootfs extraction" prepare_rootfs "$scratch/rootfs"
timed "docker import" import_image "$scratch/rootfs"
say "built $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%d MB", $1 / 1e6 }'), recipe $RECIPE)"
