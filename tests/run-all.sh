#!/usr/bin/env bash
# The whole test suite, as `make test` and CI (.ci/run) run it, from the repository root:
#
#     bash tests/run-all.sh              # every stage
#     bash tests/run-all.sh unit lint    # only the named stages
#     bash tests/run-all.sh molecule+integration   # stages joined by "+" run at the same time
#
# Stages: unit (pytest, moto in-process), sanity (ansible-test, offline), lint (ansible-lint production),
# molecule (every scenario under extensions/molecule: converge, idempotence, verify, teardown),
# integration (pytest against the emulator: bad input, check mode, the fault/kill chain), reliability (the fault/kill
# chain alone: not part of `make test`, where the integration stage runs it),
# contract (every recorded AWS request of the run against the botocore models, call order, IAM policy lint),
# compat (the oldest ansible-core meta/runtime.yml claims, on the installed tarball: ansible-doc + a playbook).
# The tests use their own emulator on $MEGAPOOL_EMULATOR_PORT (default 5100), never the one `make up` leaves on 5000.
# Every stage runs even when an earlier one fails; the exit status is non-zero when any failed.
# Stages joined by "+" run at the same time, the n-th of them on its own emulator (port $MEGAPOOL_EMULATOR_PORT + n)
# when it uses one, each one's output kept in tests/output/<stage>.log and printed when it ends. The molecule and
# integration stages spend much of their time waiting (polls, health checks, deregistration delays, demo nodes
# starting), so on CI's two cores they overlap well. The stages that need nothing from them (unit, sanity, lint,
# compat) run beside them at a lower CPU priority (nice 10): they take the cores those two leave idle and yield when
# they need them, instead of 500 s of wall time before and after (docs/testing.md, "What `make test` costs").
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export MEGAPOOL_EMULATOR_PORT=${MEGAPOOL_EMULATOR_PORT:-${TEST_EMULATOR_PORT:-5100}}
export PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1

ALL_STAGES=(system molecule+integration+unit+sanity+lint+compat contract)
STAGES=("${@:-${ALL_STAGES[@]}}")
# Beside other stages these run at nice 10 (CFS weight 110 against 1024: about a tenth of a contended core, all of an
# idle one); alone they run as usual.
LOW_PRIORITY=" unit sanity lint compat "
# The stages that talk to an emulator; beside others each gets its own.
USES_EMULATOR=" molecule integration reliability contract compat "

stage_system() { bash tests/setup-system.sh; }
# moto in-process, and the fault proxy: independent tests, one worker per core; the coverage of plugins/ is printed at
# the end (tests/coverage.ini: files below 100 %, least covered first, and the total).
stage_unit() {
    pytest tests/unit tests/reliability -q -p no:cacheprovider -n auto --cov --cov-config=tests/coverage.ini --cov-report=term
}
stage_sanity() { bash tests/sanity.sh; }
stage_lint() { bash tests/lint.sh; }
# Every AWS request of the molecule and integration stages (modules, plugins, test code) is recorded into one log per
# run (tests/contract/recorder, docs/testing.md); the contract stage checks it against what AWS enforces. A contract
# stage run without those stages records a first converge of its own.
CALL_LOG="$ROOT/tests/output/aws-calls.jsonl"
mkdir -p "$ROOT/tests/output" && rm -f "$CALL_LOG"
recorded() {  # recorded <stage> <command...>
    MEGAPOOL_CALL_LOG="$CALL_LOG" MEGAPOOL_CALL_STAGE="$1" PYTHONPATH="$ROOT/tests/contract/recorder${PYTHONPATH:+:$PYTHONPATH}" "${@:2}"
}
# Every scenario under extensions/molecule (their shared settings, ansible.cfg's included, in
# extensions/molecule/config.yml, molecule's base config for a collection).
# The scenarios run in two lanes at the same time, each lane on an emulator of its own (the stage's port, and that port
# + 20 for the second), each lane's scenarios one after another. Most of a scenario's time is waiting (certificate
# validation, rollouts, health checks, deregistration delays), so two lanes take about the time of the longer one
# (docs/testing.md, "2026-12-04 evening: mitogen, two molecule lanes, three integration workers"). Lanes balanced by
# the scenarios' durations: default 789 s + dns 326 + database 364 against release 694 + alb 661 (a run under
# mitogen, 2026-12-04). A scenario of extensions/molecule in no lane fails the stage (it would go untested).
MOLECULE_LANES=("default dns database" "release alb")
stage_molecule() {
    local base=$MEGAPOOL_EMULATOR_PORT listed lanes lane ports=() pids=() status=0 i
    listed=$(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
    lanes=$(printf '%s\n' "${MOLECULE_LANES[@]}" | tr ' ' '\n' | sort)
    if [[ "$listed" != "$lanes" ]]; then
        echo "run-all.sh: MOLECULE_LANES (${MOLECULE_LANES[*]}) are not the scenarios of extensions/molecule (${listed//$'\n'/ })"
        return 1
    fi
    for i in "${!MOLECULE_LANES[@]}"; do
        ports+=($((base + 20 * i)))
        [[ $i -eq 0 ]] || python scripts/emulator.py start --port "${ports[$i]}" >/dev/null || return 2
        read -r -a lane <<< "${MOLECULE_LANES[$i]}"
        # shellcheck disable=SC2046 # one -s per scenario
        MEGAPOOL_EMULATOR_PORT=${ports[$i]} recorded molecule molecule test $(printf -- '-s %s ' "${lane[@]}") \
            > "tests/output/molecule-lane$i.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || status=1
        echo "--- molecule lane $i: ${MOLECULE_LANES[$i]} (port ${ports[$i]}) ---"
        cat "tests/output/molecule-lane$i.log"
        [[ $i -eq 0 ]] || python scripts/emulator.py stop --port "${ports[$i]}" >/dev/null
    done
    return "$status"
}
# Three workers, each with its own emulator (tests/integration/conftest.py); a file's tests stay together on one worker,
# in order, the longest files first (tests/integration/xdist_groups.py). Much of a file's time is waiting (rollouts,
# health checks, demo nodes starting): with two workers a core stayed idle for a third of the stage's end
# (docs/testing.md, "2026-12-04 evening: mitogen, two molecule lanes, three integration workers").
# test_reliability.py is one of those files:
# its "second run through the faults changes nothing" once redeployed here only because xdist's loadgroup had lost its
# groups (pytest 9) and sent that test to the other worker, whose emulator held another file's stack (docs/testing.md).
stage_integration() {
    recorded integration pytest tests/integration -q -p no:cacheprovider -n 3 --dist loadgroup --durations=25
}
stage_reliability() { recorded reliability pytest tests/integration/test_reliability.py -q -p no:cacheprovider; }  # alone, by name
stage_contract() { MEGAPOOL_CONTRACT_LOGS="$CALL_LOG" pytest tests/contract -q -p no:cacheprovider; }
stage_compat() { bash tests/compat/run.sh; }  # ansible-core 2.17 in .cache/venv-compat (tests/compat/requirements.txt)

python scripts/emulator.py start || exit 2

passed=0
failed=0
summary=()
record() {  # record <stage> <exit status> <start time> [<CPU seconds>]
    local cpu=${4:+, $4 CPU s}
    if [[ $2 -eq 0 ]]; then
        passed=$((passed + 1))
        summary+=("  $1: passed ($(( $(date +%s) - $3 ))s${cpu})")
    else
        failed=$((failed + 1))
        summary+=("  $1: FAILED ($(( $(date +%s) - $3 ))s${cpu})")
    fi
}
# children_cpu <file>: the CPU seconds (user + sys) of the processes this shell has waited for into <file>: a stage's
# own, when called at the end of the subshell that ran it (the second line of bash's `times`, which must not run in a
# pipe: a forked shell has no children). Detached processes (the emulators) are not in it.
children_cpu() {
    times > "$1.times"
    awk 'NR == 2 { split($0, t, /[ms ]+/); printf "%.0f", t[1] * 60 + t[2] + t[3] * 60 + t[4] }' "$1.times" > "$1"
    rm -f "$1.times"
}
extra_ports=()
stop_extra_emulators() {
    for port in "${extra_ports[@]}"; do python scripts/emulator.py stop --port "$port" >/dev/null; done
}
trap 'stop_extra_emulators; python scripts/emulator.py stop >/dev/null' EXIT

for group in "${STAGES[@]}"; do
    IFS=+ read -r -a members <<< "$group"
    start=$(date +%s)
    if [[ ${#members[@]} -eq 1 ]]; then
        echo
        echo "=== ${group} ==="
        ( "stage_${group}"; status=$?; children_cpu "tests/output/${group}.cpu"; exit "$status" )
        record "$group" $? "$start" "$(cat "tests/output/${group}.cpu" 2>/dev/null)"
        continue
    fi
    echo
    echo "=== ${members[*]} (at the same time; each one's output follows when it ends) ==="
    pids=()
    for i in "${!members[@]}"; do
        stage=${members[$i]}
        port=$((MEGAPOOL_EMULATOR_PORT + i))
        priority=0
        [[ $LOW_PRIORITY == *" $stage "* ]] && priority=10
        if [[ $i -gt 0 && $USES_EMULATOR == *" $stage "* ]]; then
            extra_ports+=("$port")
            nice -n "$priority" python scripts/emulator.py start --port "$port" >/dev/null || exit 2
        fi
        (
            renice -n "$priority" -p "$BASHPID" >/dev/null
            export MEGAPOOL_EMULATOR_PORT=$port
            "stage_${stage}" > "tests/output/${stage}.log" 2>&1
            status=$?
            children_cpu "tests/output/${stage}.cpu"
            echo
            echo "=== ${stage} (port ${port}, exit ${status}, $(( $(date +%s) - start ))s, $(cat "tests/output/${stage}.cpu") CPU s) ==="
            cat "tests/output/${stage}.log"
            exit "$status"
        ) &
        pids+=($!)
    done
    for i in "${!members[@]}"; do
        wait "${pids[$i]}"
        record "${members[$i]}" $? "$start" "$(cat "tests/output/${members[$i]}.cpu" 2>/dev/null)"
    done
done

echo
echo "=== summary ==="
printf '%s\n' "${summary[@]}"
echo "stages: ${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
