#!/usr/bin/env bash
# Builds the demo release (demo/, docs/demo.md) into the local image store, offline, with Debian's elixir:
#
#     bash scripts/build_demo.sh <version> [--unhealthy]
#
# The release goes to $MEGAPOOL_LOCAL_IMAGES/megapool-demo/<version>/ (default <repository root>/.cache/images), the
# filesystem of the local image `megapool.local/megapool-demo:<version>`: the emulator runs a task of that image with
# this directory as its working directory, so the release role's `bin/megapool start` works as in a container.
# `--unhealthy` builds a release whose GET /health answers 500 (a bad release the circuit breaker must roll back).
# Idempotent: a directory built from the same sources, version and flag is kept (the stamp file .megapool-demo-build);
# anything else is rebuilt in a temporary directory and swapped in whole.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES=${MEGAPOOL_LOCAL_IMAGES:-$ROOT/.cache/images}
NAME=megapool-demo

die() { echo "build_demo: $*" >&2; exit 2; }

version=""
healthy=true
for argument in "$@"; do
    case $argument in
        --unhealthy) healthy=false ;;
        -*) die "unknown option $argument (usage: build_demo.sh <version> [--unhealthy])" ;;
        *) [[ -z $version ]] || die "one version only (usage: build_demo.sh <version> [--unhealthy])"; version=$argument ;;
    esac
done
[[ -n $version ]] || die "usage: build_demo.sh <version> [--unhealthy]"
# The image tag is the release version: SemVer (what Elixir accepts) within what a Docker tag allows.
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ && ${#version} -le 128 ]] ||
    die "version '$version' is not a SemVer version such as 1.0.0 or 1.0.2-unhealthy (it is the image tag too)"

if ! command -v elixir >/dev/null 2>&1 || ! command -v mix >/dev/null 2>&1; then
    die "elixir is not installed: install the Debian package elixir (apt-get install elixir; tests/setup-system.sh does it)"
fi

target=$IMAGES/$NAME/$version
# What the build depends on: the sources, this script, the flag and the Elixir/OTP that compiles and runs it.
stamp=$(
    cd "$ROOT"
    {
        find demo -type f ! -path 'demo/_build/*' ! -path 'demo/deps/*' -print0 | sort -z | xargs -0 sha256sum
        sha256sum scripts/build_demo.sh
        echo "version=$version healthy=$healthy"
        elixir --short-version 2>/dev/null || true
        cat "$(dirname "$(readlink -f "$(command -v erl)")")/../releases/"*/OTP_VERSION 2>/dev/null || true
    } | sha256sum | cut -d' ' -f1
)
if [[ -f $target/.megapool-demo-build && $(cat "$target/.megapool-demo-build") == "$stamp" && -x $target/bin/megapool ]]; then
    echo "build_demo: megapool.local/$NAME:$version is up to date ($target)"
    exit 0
fi

mkdir -p "$IMAGES/$NAME"
work=$(mktemp -d "$IMAGES/$NAME/.build-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$ROOT/demo" "$work/src"
rm -rf "$work/src/_build" "$work/src/deps"
echo "build_demo: building megapool.local/$NAME:$version (healthy /health: $healthy)"
(
    cd "$work/src"
    export MIX_ENV=prod MIX_HOME="$work/mix" HEX_OFFLINE=1 MEGAPOOL_DEMO_VERSION=$version MEGAPOOL_DEMO_HEALTHY=$healthy
    unset ERL_AFLAGS ERL_FLAGS ERL_ZFLAGS ELIXIR_ERL_OPTIONS
    mix release --overwrite --quiet --path "$work/release" >"$work/build.log" 2>&1 ||
        { cat "$work/build.log" >&2; exit 1; }
) || die "mix release failed (output above)"
echo "$stamp" >"$work/release/.megapool-demo-build"
rm -rf "$target.old"
[[ ! -e $target ]] || mv "$target" "$target.old"
mv "$work/release" "$target"
rm -rf "$target.old"
echo "build_demo: built megapool.local/$NAME:$version in $target"
