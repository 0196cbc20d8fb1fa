#!/usr/bin/env bash
# End-to-end test of the Slurm scripts on a real single-node Slurm cluster on this machine.
#
#   deploy/slurm/test-local-cluster.sh           (as root, after cargo build --release)
#   deploy/slurm/test-local-cluster.sh --smoke   (bring the cluster up, run a trivial array job)
#
# Installs slurm-wlm and munge with apt-get if they are missing, starts munged, slurmctld and
# slurmd on 127.0.0.1 with every file (keys, config, state, logs) in one temporary folder, then:
#   1. runs a trivial 2-task array job to prove the cluster schedules work;
#   2. runs the reference single-process run of SCENARIO;
#   3. submits the same run with submit.sh as 4 shard tasks plus the dependent merge job, waits,
#      checks that every task succeeded and that every table (*.csv, *.parquet) of the merged
#      result is byte-identical to the single-process run's (manifest.json is not compared: it
#      records times and paths);
#   4. resubmits shard task 2 with submit.sh --tasks 2 and checks that remnant skipped it (its
#      folder unchanged) and that the new merge is still identical.
# If Slurm cannot be installed or started here, prints "SKIP: Slurm cannot run here: <reason>"
# and exits 0. Once the cluster is up, any failure exits 1.
#
# Environment: REMNANT_BIN (default: ${CARGO_TARGET_DIR:-target}/release/remnant),
# SCENARIO (default scenarios/bench/reference-hypertrophy.toml), PATIENTS (default 200000),
# SHARDS (default 4), JOB_TIMEOUT seconds (default 300), KEEP_TMP=1 keeps the temporary folder.
set -euo pipefail

export PATH=$PATH:/usr/sbin:/sbin    # munged, slurmctld and slurmd live there
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

smoke_only=0
case ${1:-} in
    --smoke) smoke_only=1 ;;
    '') ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

scenario=${SCENARIO:-scenarios/bench/reference-hypertrophy.toml}
patients=${PATIENTS:-200000}
shards=${SHARDS:-4}
job_timeout=${JOB_TIMEOUT:-300}
started=$(date +%s)

say() { echo "[slurm-test $(( $(date +%s) - started ))s] $*"; }
skip() { show_logs; echo "SKIP: Slurm cannot run here: $*"; exit 0; }
fail() { show_logs; echo "FAIL: $*"; exit 1; }
cluster_up=0
show_logs() {
    [ -n "${tmp:-}" ] && [ -d "$tmp" ] || return 0
    local f
    for f in "$tmp"/log/slurmctld.log "$tmp"/log/slurmd.log "$tmp"/cluster/logs/*.out; do
        [ -f "$f" ] || continue
        echo "---- last lines of $f" >&2
        tail -n 15 "$f" >&2
    done
}

# ---------------------------------------------------------------- preconditions
if [ "$smoke_only" = 0 ]; then
    if [ -n "${REMNANT_BIN:-}" ]; then
        bin=$REMNANT_BIN
    else
        bin=${CARGO_TARGET_DIR:-target}/release/remnant
    fi
    case $bin in /*) ;; *) bin=$repo/$bin ;; esac
    [ -x "$bin" ] || fail "no remnant binary at $bin: run cargo build --release first (or set REMNANT_BIN)"
    "$bin" merge --help >/dev/null 2>&1 || fail "$bin has no 'merge' command: rebuild with cargo build --release"
    [ -f "$scenario" ] || fail "no scenario $scenario"
    export REMNANT_BIN=$bin
fi

[ "$(id -u)" = 0 ] || skip "this test starts munged, slurmctld and slurmd and must run as root"

daemons=(munged munge unmunge slurmctld slurmd sbatch sinfo squeue scontrol scancel)
missing() { local c; for c in "${daemons[@]}"; do command -v "$c" >/dev/null || return 0; done; return 1; }
if missing; then
    command -v apt-get >/dev/null || skip "slurm-wlm/munge are not installed and there is no apt-get"
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt_log=$(mktemp)
    if ! apt-get install -y -q slurm-wlm munge >"$apt_log" 2>&1; then
        if ! { apt-get update -q && apt-get install -y -q slurm-wlm munge; } >>"$apt_log" 2>&1; then
            tail -n 5 "$apt_log"
            rm -f "$apt_log"
            skip "apt-get install slurm-wlm munge failed"
        fi
    fi
    rm -f "$apt_log"
    missing && skip "slurm-wlm/munge installed but a command is still missing"
fi

# ---------------------------------------------------------------- private cluster
tmp=$(mktemp -d "${TMPDIR:-/tmp}/remnant-slurm-test.XXXXXX")
chmod 755 "$tmp"                 # munged insists that everyone may reach its socket
mkdir -p "$tmp"/{etc,run,log,state,spool,munge,smoke}
chmod 700 "$tmp/munge"
chmod 755 "$tmp/run"

pids=()
passed=0
cleanup() {
    local rc=$?
    set +e
    if [ "$cluster_up" = 1 ]; then
        # Jobs first: slurmstepd outlives a killed slurmd.
        scancel --quiet --full --user=root 2>/dev/null
        for _ in $(seq 20); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    [ -f "$tmp/run/munged.pid" ] && kill "$(cat "$tmp/run/munged.pid")" 2>/dev/null
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    if [ "$passed" = 1 ] && [ "${KEEP_TMP:-0}" != 1 ]; then
        rm -rf "$tmp"
    else
        echo "files of this test kept in $tmp" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local p=$1
    while ! port_free "$p" || ! port_free "$((p + 1))"; do
        p=$((p + 10))
        [ "$p" -lt $(( $1 + 500 )) ] || skip "no free TCP ports on 127.0.0.1 near $1"
    done
    echo "$p"
}

say "starting munged"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$tmp/munge/munge.key"
munged --key-file="$tmp/munge/munge.key" --socket="$tmp/run/munge.sock" \
    --pid-file="$tmp/run/munged.pid" --log-file="$tmp/log/munged.log" \
    --seed-file="$tmp/munge/munged.seed" >"$tmp/log/munged.out" 2>&1 ||
    skip "munged did not start: $(tail -n 1 "$tmp/log/munged.out")"
munge -S "$tmp/run/munge.sock" -n </dev/null | unmunge -S "$tmp/run/munge.sock" >/dev/null 2>&1 ||
    skip "munge cannot encode and decode a credential"

node=$(hostname -s)
cpus=$(nproc)
port=$(pick_port 16817)
export SLURM_CONF=$tmp/etc/slurm.conf
: >"$tmp/etc/plugstack.conf"
cat >"$SLURM_CONF" <<EOF
# Single-node test cluster on 127.0.0.1, no systemd and no cgroups needed.
ClusterName=remnanttest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/run/munge.sock
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
PlugStackConfig=$tmp/etc/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
ReturnToService=2
MinJobAge=3600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1024 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld and slurmd (node $node, $cpus CPUs, ports $port-$((port + 1)))"
slurmctld -D -i >"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
cluster_up=1
slurmd -D -N "$node" >"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)

deadline=$(( $(date +%s) + 60 ))
state=
while :; do
    for p in "${pids[@]}"; do
        kill -0 "$p" 2>/dev/null || skip "a Slurm daemon exited at start-up: $(grep -h -i -m 1 'fatal\|error' "$tmp"/log/slurm*.out | tail -n 1)"
    done
    state=$(sinfo -h -N -n "$node" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    [ "$(date +%s)" -lt "$deadline" ] || skip "node $node not idle after 60 s (sinfo: '${state:-no answer}')"
    sleep 1
done
say "cluster up: node $node idle"

# ---------------------------------------------------------------- helpers for jobs
job_field() { # job_field JOBID FIELD: FIELD of each record of the job (one per array task)
    scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"
}
terminal() {
    case $1 in
        COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED|BOOT_FAIL|DEADLINE) return 0 ;;
        *) return 1 ;;
    esac
}
wait_jobs() { # wait_jobs TIMEOUT JOBID...: until every record of these jobs is in a final state
    local limit=$1 s all states j
    shift
    local deadline=$(( $(date +%s) + limit ))
    while :; do
        all=1
        for j in "$@"; do
            states=$(job_field "$j" JobState)
            [ -n "$states" ] || all=0
            for s in $states; do
                terminal "$s" || all=0
            done
            if [ "$(job_field "$j" Reason | head -n 1)" = DependencyNeverSatisfied ]; then
                return 0
            fi
        done
        [ "$all" = 1 ] && return 0
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 1
    done
}
check_array() { # check_array JOBID EXPECTED_TASKS: every task COMPLETED with exit code 0
    local j=$1 want=$2 ok=0 line id st ec
    while read -r line; do
        id=$(tr ' ' '\n' <<<"$line" | sed -n 's/^ArrayTaskId=//p')
        st=$(tr ' ' '\n' <<<"$line" | sed -n 's/^JobState=//p')
        ec=$(tr ' ' '\n' <<<"$line" | sed -n 's/^ExitCode=//p')
        if [ "$st" = COMPLETED ] && [ "$ec" = 0:0 ]; then
            ok=$((ok + 1))
        else
            echo "  task $id of job $j: $st, exit code $ec" >&2
        fi
    done < <(scontrol show job -o "$j")
    [ "$ok" = "$want" ]
}
check_job() { # check_job JOBID: COMPLETED with exit code 0
    local st ec
    st=$(job_field "$1" JobState) ec=$(job_field "$1" ExitCode)
    if [ "$st" != COMPLETED ] || [ "$ec" != 0:0 ]; then
        echo "  job $1: $st, exit code $ec, reason $(job_field "$1" Reason)" >&2
        return 1
    fi
}

# ---------------------------------------------------------------- 1. trivial array job
say "smoke test: a 2-task array job and a dependent job"
# shellcheck disable=SC2016 # expanded in the job
smoke=$(sbatch --parsable --array=1-2 --cpus-per-task=1 --chdir="$tmp/smoke" \
    --output="$tmp/smoke/task-%a.out" --wrap 'echo "task $SLURM_ARRAY_TASK_ID on $(hostname -s)"') ||
    skip "sbatch refused a trivial job"
smoke_after=$(sbatch --parsable --dependency="afterok:$smoke" --chdir="$tmp/smoke" \
    --output="$tmp/smoke/after.out" --wrap 'cat task-1.out task-2.out') ||
    skip "sbatch refused a trivial dependent job"
wait_jobs 60 "$smoke" "$smoke_after" || skip "a trivial array job did not finish in 60 s"
check_array "$smoke" 2 || skip "a trivial array job failed"
check_job "$smoke_after" || skip "a trivial dependent job failed"
say "smoke test passed: $(tr '\n' ';' <"$tmp/smoke/after.out")"
if [ "$smoke_only" = 1 ]; then
    passed=1
    echo "PASS: local Slurm cluster runs array jobs and dependencies"
    exit 0
fi

# ---------------------------------------------------------------- 2. reference run
say "reference: single-process remnant run of $scenario, $patients patients"
"$bin" run "$scenario" --patients "$patients" --out "$tmp/reference" --quiet ||
    fail "the single-process run failed"

# ---------------------------------------------------------------- 3. sharded run on Slurm
say "submitting $shards shard tasks and the merge job with submit.sh"
out=$tmp/cluster
REMNANT_CPUS_PER_TASK=1 "$here/submit.sh" "$scenario" "$shards" "$out" --patients "$patients" |
    tee "$tmp/submit.out" || fail "submit.sh failed"
array_id=$(sed -n 's/^array job: \([0-9][0-9]*\).*/\1/p' "$tmp/submit.out")
merge_id=$(sed -n 's/^merge job: \([0-9][0-9]*\).*/\1/p' "$tmp/submit.out")
if [ -z "$array_id" ] || [ -z "$merge_id" ]; then fail "no job ids in the output of submit.sh"; fi

wait_jobs "$job_timeout" "$array_id" "$merge_id" ||
    fail "jobs $array_id and $merge_id not finished after $job_timeout s: $(squeue -h -o '%i %T %r' | tr '\n' ';')"
check_array "$array_id" "$shards" || fail "not every shard task of job $array_id succeeded"
check_job "$merge_id" || fail "the merge job $merge_id did not succeed"
say "all $shards shard tasks and the merge job completed"

compare_tables() { # compare_tables DIR: tables of DIR against the reference; sets n_csv, n_parquet
    local dir=$1 f bad=0
    n_csv=0 n_parquet=0
    diff <(cd "$tmp/reference" && find . -type f \( -name '*.csv' -o -name '*.parquet' \) | sort) \
         <(cd "$dir" && find . -type f \( -name '*.csv' -o -name '*.parquet' \) | sort) >&2 ||
        { echo "  the merged result does not have the same table files" >&2; return 1; }
    while read -r f; do
        if cmp -s "$tmp/reference/$f" "$dir/$f"; then
            case $f in *.csv) n_csv=$((n_csv + 1)) ;; *) n_parquet=$((n_parquet + 1)) ;; esac
        else
            echo "  differs from the single-process run: ${f#./}" >&2
            bad=1
        fi
    done < <(cd "$tmp/reference" && find . -type f \( -name '*.csv' -o -name '*.parquet' \) | sort)
    [ "$bad" = 0 ] && [ "$n_csv" -gt 0 ]
}
compare_tables "$out/merged" || fail "merged tables differ from the single-process run"
say "merged tables identical to the single-process run: $n_csv CSV and $n_parquet Parquet files"

# ---------------------------------------------------------------- 4. resubmission is skipped
fingerprint() { # names, sizes, modification times and contents of a folder, and its inode
    stat -c '%i' "$1"
    (cd "$1" && find . -type f -printf '%p %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort -k 2)
}
shard2=$out/shards/shard-2-of-$shards
before=$(fingerprint "$shard2")
say "resubmitting shard task 2 with submit.sh --tasks 2"
REMNANT_CPUS_PER_TASK=1 "$here/submit.sh" --tasks 2 "$scenario" "$shards" "$out" --patients "$patients" \
    >"$tmp/resubmit.out" || fail "submit.sh --tasks 2 failed"
array2=$(sed -n 's/^array job: \([0-9][0-9]*\).*/\1/p' "$tmp/resubmit.out")
merge2=$(sed -n 's/^merge job: \([0-9][0-9]*\).*/\1/p' "$tmp/resubmit.out")
if [ -z "$array2" ] || [ -z "$merge2" ]; then fail "no job ids in the output of submit.sh --tasks 2"; fi
wait_jobs "$job_timeout" "$array2" "$merge2" || fail "resubmitted jobs $array2 and $merge2 not finished after $job_timeout s"
check_array "$array2" 1 || fail "the resubmitted shard task failed"
check_job "$merge2" || fail "the second merge job $merge2 did not succeed"
[ "$before" = "$(fingerprint "$shard2")" ] || fail "resubmitting task 2 changed $shard2"
compare_tables "$out/merged" || fail "tables of the second merge differ from the single-process run"
say "resubmitted task 2 left its shard unchanged; its log says:"
grep -v '^  \|^remnant shard ' "$out/logs/shard-2-of-$shards.job-$array2.out" | sed 's/^/    /' || true

passed=1
echo "PASS: Slurm job array of $shards shards + merge reproduces the single-process run byte for byte" \
     "($n_csv CSV + $n_parquet Parquet files compared; resubmitted shard skipped; $(( $(date +%s) - started )) s)"
