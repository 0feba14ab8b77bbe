#!/usr/bin/env bash
# The oldest ansible-core that meta/runtime.yml claims (requires_ansible), against the collection as users install it.
#
#     MEGAPOOL_EMULATOR_PORT=5100 bash tests/compat/run.sh     # the emulator must be running (tests/run-all.sh starts it)
#
# 1. a venv .cache/venv-compat with tests/compat/requirements.txt (made once, remade when that file changes), installed
#    by the pip of the project's .venv;
# 2. the tarball of `ansible-galaxy collection build`, installed into a scratch collections path next to the
#    amazon.aws and community.aws of the project's .venv;
# 3. ansible-doc of every module, the inventory plugin, every filter and every role: rc 0, no error;
# 4. tests/compat/playbook.yml against the emulator, twice: the second run must report changed=0.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV="$ROOT/.cache/venv-compat"
REQUIREMENTS="$ROOT/tests/compat/requirements.txt"
: "${MEGAPOOL_EMULATOR_PORT:?set MEGAPOOL_EMULATOR_PORT to the port of the running test emulator}"

digest=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [[ ! -x "$VENV/bin/ansible-playbook" || "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$digest" ]]; then
    rm -rf "$VENV"
    # No pip of its own (ensurepip installed pip and setuptools, which nothing here uses): the project's pip installs
    # into it (--python). The venv: 5.9 CPU s instead of 12.9 (docs/testing.md). Byte-compiled as before: with
    # PYTHONDONTWRITEBYTECODE set, every ansible process would compile its imports again.
    python3 -m venv --without-pip "$VENV"
    "$ROOT/.venv/bin/python" -m pip --python "$VENV/bin/python" install --quiet -r "$REQUIREMENTS"
    echo "$digest" > "$VENV/.requirements.sha256"
fi

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
# A user's environment: none of the checkout's Ansible settings (its ansible.cfg links the working tree).
while read -r name; do unset "$name"; done < <(env | grep -o '^ANSIBLE_[A-Z_]*' || true)
export ANSIBLE_CONFIG="$SCRATCH/ansible.cfg" ANSIBLE_NOCOLOR=1 ANSIBLE_COLLECTIONS_PATH="$SCRATCH/collections"
printf '[defaults]\ngathering = explicit\n' > "$ANSIBLE_CONFIG"

"$ROOT/.venv/bin/ansible-galaxy" collection build --output-path "$SCRATCH" "$ROOT" > /dev/null
"$VENV/bin/ansible-galaxy" collection install --no-deps -p "$SCRATCH/collections" "$SCRATCH"/megapool-aws-*.tar.gz > /dev/null
site="$ROOT/.venv/lib/python3.11/site-packages/ansible_collections"
mkdir -p "$SCRATCH/collections/ansible_collections/amazon" "$SCRATCH/collections/ansible_collections/community"
ln -s "$site/amazon/aws" "$SCRATCH/collections/ansible_collections/amazon/aws"
ln -s "$site/community/aws" "$SCRATCH/collections/ansible_collections/community/aws"
"$VENV/bin/ansible" --version | sed -n 1p
"$VENV/bin/ansible-galaxy" collection list -p "$SCRATCH/collections" 2>/dev/null | grep -E '^(amazon|community|megapool)\.aws '

failed=0
checked=0
for kind in module inventory filter role; do
    names=$("$VENV/bin/ansible-doc" -t "$kind" -l megapool.aws --json | "$VENV/bin/python" -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin))))')
    [[ -n "$names" ]] || { echo "ansible-doc -t $kind -l megapool.aws lists nothing"; failed=1; continue; }
    # shellcheck disable=SC2086 # one word per plugin name
    if ! "$VENV/bin/ansible-doc" -t "$kind" --json $names > "$SCRATCH/doc.json" 2> "$SCRATCH/doc.err" || [[ -s "$SCRATCH/doc.err" ]]; then
        echo "ansible-doc -t $kind failed:"; cat "$SCRATCH/doc.err"; failed=1
    fi
    # With --json a plugin without documentation is no error: each listed name must have its doc (a role: entry points).
    # shellcheck disable=SC2086 # one word per plugin name
    "$VENV/bin/python" "$ROOT/tests/compat/documented.py" "$SCRATCH/doc.json" $names || failed=1
    checked=$((checked + $(wc -w <<< "$names")))
done
echo "ansible-doc: $checked plugins and roles checked"

cd "$SCRATCH"
for run in 1 2; do
    "$VENV/bin/ansible-playbook" "$ROOT/tests/compat/playbook.yml" -i "$ROOT/tests/compat/hosts.yml" > "$SCRATCH/run$run.txt" 2>&1 || {
        echo "playbook run $run failed:"; tail -60 "$SCRATCH/run$run.txt"; exit 1; }
done
recap=$(sed -n '/PLAY RECAP/,$p' "$SCRATCH/run2.txt")
echo "$recap"
grep -qE 'changed=0 +unreachable=0 +failed=0' <<< "$recap" || { echo "the second run changed something"; tail -80 "$SCRATCH/run2.txt"; exit 1; }
[[ $failed -eq 0 ]]
