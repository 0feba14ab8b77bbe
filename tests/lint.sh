#!/usr/bin/env bash
# ansible-lint (profile production, configured by .ansible-lint) on the whole repository, offline, and the Python
# formatter's check (ruff format, ruff.toml):
#
#     bash tests/lint.sh                  # what CI runs
#     bash tests/lint.sh roles/network    # extra arguments go to ansible-lint
#
# - offline (.ansible-lint `offline: true`, repeated here): no ansible-galaxy install, no schema refresh;
#   Galaxy is not reachable from the project's machines.
# - amazon.aws / community.aws come from the `ansible` package in the venv; this collection from
#   .collections/ansible_collections/megapool/aws -> the checkout (created here when `make install` has not run).
# - ANSIBLE_HOME points at a project-local directory: ansible-lint always puts $ANSIBLE_HOME/collections first
#   in the collection path, and ~/.ansible/collections may hold a stale copy of megapool.aws (molecule installs
#   one there), which would shadow the checkout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

VENV=${LINT_VENV:-$ROOT/.venv}
export PATH="$VENV/bin:$PATH"
command -v ansible-lint >/dev/null || { echo "lint.sh: ERROR: ansible-lint not found in $VENV/bin; run 'make install-dev' first" >&2; exit 2; }

LINK=.collections/ansible_collections/megapool/aws
if [[ ! -e "$LINK" ]]; then
    mkdir -p "$(dirname "$LINK")"
    ln -sfn ../../.. "$LINK"
fi

export ANSIBLE_HOME="$ROOT/.cache/ansible-lint-home"
mkdir -p "$ANSIBLE_HOME"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
# Plain output in CI and when piped; ansible-lint never prompts.
if [[ "${CI:-}" == true || ! -t 1 ]]; then
    export NO_COLOR=1
fi

start=$(date +%s)
set +e
ansible-lint --offline --profile production --config-file "$ROOT/.ansible-lint" "$@"
status=$?
# The Python formatter (ruff.toml), on the whole repository when no paths are given: every file as `ruff format`
# writes it. `.venv/bin/ruff format` fixes what it lists.
if [[ $# -eq 0 ]]; then
    if ruff format --check --output-format concise "$ROOT"; then
        echo "lint.sh: ruff format --check passed"
    else
        echo "lint.sh: ruff format --check FAILED: the files above are not formatted; run .venv/bin/ruff format" >&2
        status=1
    fi
fi
set -e
elapsed=$(( $(date +%s) - start ))
if [[ $status -eq 0 ]]; then
    echo "lint.sh: ansible-lint (production) and ruff format passed in ${elapsed}s"
else
    echo "lint.sh: FAILED (exit $status) in ${elapsed}s" >&2
fi
exit "$status"
