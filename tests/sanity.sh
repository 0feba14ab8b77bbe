#!/usr/bin/env bash
# `ansible-test sanity` for megapool.aws, runnable offline (only PyPI reachable), from the repository root:
#
#     bash tests/sanity.sh                       # every sanity test, the way CI runs it
#     bash tests/sanity.sh --test pylint         # extra arguments go to ansible-test sanity
#
# What it does, and why (see docs/architecture.md "Tests"):
# - ansible-test bootstraps pip in each per-test virtualenv with a get-pip script downloaded from a host this
#   network cannot reach. It uses a cached copy when one exists, so we seed the cache with a stand-in that does
#   what get-pip.py does: runs a pip that is not installed (the wheel bundled with Python's ensurepip) to install the
#   requested pip (PyPI is reachable) with the same arguments. One install per venv: the first stand-in ran
#   ensurepip (pip and setuptools installed), installed the requested pip over it and removed setuptools again,
#   ~3 CPU s more for each of the per-test venvs that a cold cache (CI) builds (docs/testing.md).
# - ansible-test needs the collection at .../ansible_collections/megapool/aws, and the collections our modules
#   import (amazon.aws, community.aws) under the same ansible_collections/ root. We copy the collection's files
#   (tracked + untracked-but-not-ignored) into a temporary tree and link the two dependencies from the venv.
# - The per-test virtualenvs live in ~/.ansible/test/venv (ansible-test's own cache, keyed by their pinned
#   requirements), so a second run only creates what changed. `--venv` makes ansible-test build a fresh controller
#   venv in the temporary tree on every run (~15 s); SANITY_LOCAL=1 runs the controller from .venv instead
#   (`--local`), which gives the same results a little faster.
#
# Environment: SANITY_PYTHON (default 3.11), SANITY_VENV (default .venv), SANITY_LOCAL=1 (see above),
# SANITY_KEEP=1 keeps the temporary tree.
# The results (junit-like bot/ files and the summary) are copied to tests/output/sanity/ (git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

VENV=${SANITY_VENV:-$ROOT/.venv}
PYTHON_VERSION=${SANITY_PYTHON:-3.11}
export PATH="$VENV/bin:$PATH"
IGNORE_FILE="tests/sanity/ignore-$(python -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))').txt"

die() { echo "sanity.sh: ERROR: $*" >&2; exit 2; }

command -v ansible-test >/dev/null || die "ansible-test not found in $VENV/bin; run 'make install-dev' first"
[[ -f galaxy.yml ]] || die "run from the collection root (galaxy.yml not found in $ROOT)"
[[ -f "$IGNORE_FILE" ]] || die "$IGNORE_FILE is missing (it must exist and stay empty)"
if [[ -s "$IGNORE_FILE" ]]; then
    die "$IGNORE_FILE must stay empty: fix the finding instead of ignoring it"
fi

# --- 1. seed the get-pip stand-in ----------------------------------------------------------------------------
# ansible-test's bootstrap (ansible_test/_util/target/setup/requirements.py) looks for
# ~/.ansible/test/cache/get_pip_<pip version with dots as underscores>.py and runs it through quiet_pip.py
# (runpy, env GET_PIP=<that path>, PIP_BREAK_SYSTEM_PACKAGES=1) as:
#     <venv python> quiet_pip.py --disable-pip-version-check pip==<version> --no-setuptools --no-wheel
PIP_VERSION=$(python - <<'EOF'
import os, re, ansible_test
path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
with open(path, encoding="utf-8") as handle:
    match = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", handle.read())
print(match.group(1) if match else "")
EOF
)
[[ -n "$PIP_VERSION" ]] || die "cannot find the pip version ansible-test bootstraps (ansible_test/_internal/python_requirements.py)"
GET_PIP="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
# Written again when its text differs from this one (an older stand-in left in the cache by an earlier sanity.sh).
mkdir -p "$(dirname "$GET_PIP")"
cat >"$GET_PIP.$$.tmp" <<'EOF'
"""Offline stand-in for get-pip.py, seeded by megapool.aws tests/sanity.sh.

Called like get-pip.py: the arguments are `pip install` arguments (packages and options), plus get-pip's own
--no-setuptools / --no-wheel. Like get-pip.py, it runs a pip that is not installed (the wheel Python's ensurepip
bundles, from sys.path) to install the requested packages from the configured index: one install into the empty
virtual environment. When no bundled wheel is found: `python -m ensurepip`, then the same install, then setuptools and
wheel removed when get-pip would not have installed them.
"""

import glob
import os
import subprocess
import sys

OWN_OPTIONS = ("--no-setuptools", "--no-wheel")


def run(command, env):
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if result.returncode:
        sys.stdout.write(result.stdout.decode("utf-8", "replace"))
        sys.exit(result.returncode)


def requested(name, args):
    return any(arg.lower().split("=")[0].split("<")[0].split(">")[0].strip() == name for arg in args)


def bundled_pip():
    try:
        import ensurepip
    except ImportError:
        return None
    wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
    return wheels[-1] if wheels else None


def main():
    args = sys.argv[1:]
    pip_args = [arg for arg in args if arg not in OWN_OPTIONS]
    env = dict(os.environ)
    env.pop("GET_PIP", None)
    wheel = bundled_pip()
    if wheel:
        # get-pip.py installs setuptools and wheel too unless told not to
        extra = [name for option, name in (("--no-setuptools", "setuptools"), ("--no-wheel", "wheel"))
                 if option not in args and not requested(name, pip_args)]
        run([sys.executable, os.path.join(wheel, "pip"), "install", "--quiet"] + pip_args + extra, env)
        return
    run([sys.executable, "-m", "ensurepip", "--default-pip"], env)
    run([sys.executable, "-m", "pip", "install", "--quiet"] + pip_args, env)
    unwanted = [name for option, name in (("--no-setuptools", "setuptools"), ("--no-wheel", "wheel"))
                if option in args and not requested(name, pip_args)]
    if unwanted:
        run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet"] + unwanted, env)


if __name__ == "__main__":
    main()
EOF
if cmp -s "$GET_PIP.$$.tmp" "$GET_PIP"; then
    rm -f "$GET_PIP.$$.tmp"
else
    mv "$GET_PIP.$$.tmp" "$GET_PIP"
    echo "sanity.sh: seeded the offline get-pip stand-in at $GET_PIP"
fi

# --- 2. the collection under a temporary ansible_collections/ tree --------------------------------------------
SITE=$(python -c 'import ansible_collections.amazon.aws as m, os; print(os.path.dirname(os.path.dirname(os.path.dirname(m.__file__))))' 2>/dev/null) \
    || SITE=$(python -c 'import ansible_collections, os; print([p for p in ansible_collections.__path__ if os.path.isdir(os.path.join(p, "amazon", "aws"))][0])')
[[ -d "$SITE/amazon/aws" && -d "$SITE/community/aws" ]] || die "amazon.aws / community.aws not found under $SITE"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/megapool-sanity.XXXXXX")
if [[ "${SANITY_KEEP:-0}" == 1 ]]; then
    trap 'echo "sanity.sh: kept $TMP"' EXIT
else
    trap 'rm -rf "$TMP"' EXIT
fi
trap 'exit 130' INT TERM

DEST="$TMP/ansible_collections/megapool/aws"
mkdir -p "$DEST" "$TMP/ansible_collections/amazon" "$TMP/ansible_collections/community"
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' file; do if [[ -e "$file" || -L "$file" ]]; then printf '%s\0' "$file"; fi; done \
    | tar --null --no-recursion --files-from=- -cf - \
    | tar -xf - -C "$DEST"
ln -s "$SITE/amazon/aws" "$TMP/ansible_collections/amazon/aws"
ln -s "$SITE/community/aws" "$TMP/ansible_collections/community/aws"

# --- 3. run ---------------------------------------------------------------------------------------------------
# --venv: ansible-test manages the controller environment (a venv with its own pinned requirements), so it may
# install what each test needs; --docker is not available here. --local: the controller is .venv as it is.
CONTROLLER=--venv
[[ "${SANITY_LOCAL:-0}" != 1 ]] || CONTROLLER=--local
# No colour in CI or when piped; ansible-test itself never prompts.
COLOR=yes
[[ -t 1 && "${CI:-}" != true ]] || COLOR=no

echo "sanity.sh: ansible-test sanity $CONTROLLER --python $PYTHON_VERSION in $DEST"
start=$(date +%s)
set +e
(cd "$DEST" && ansible-test sanity "$CONTROLLER" --python "$PYTHON_VERSION" --color "$COLOR" "$@")
status=$?
set -e
elapsed=$(( $(date +%s) - start ))

rm -rf "$ROOT/tests/output/sanity"
if [[ -d "$DEST/tests/output" ]]; then
    mkdir -p "$ROOT/tests/output/sanity"
    # everything but .tmp/ (ansible-test's scratch space, with the --venv controller virtualenv)
    tar -C "$DEST/tests/output" --exclude=./.tmp -cf - . | tar -xf - -C "$ROOT/tests/output/sanity"
fi

if [[ $status -eq 0 ]]; then
    echo "sanity.sh: ansible-test sanity passed in ${elapsed}s"
else
    echo "sanity.sh: ansible-test sanity FAILED (exit $status) in ${elapsed}s; details in tests/output/sanity/" >&2
fi
exit "$status"
