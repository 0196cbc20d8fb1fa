#!/usr/bin/env bash
# Submit a sharded remnant run to Slurm: an array of N shard tasks, then one merge job that
# starts once every shard has succeeded.
#
#   deploy/slurm/submit.sh [--tasks LIST] SCENARIO N OUTDIR [remnant run args...]
#
#   SCENARIO  scenario file (TOML)
#   N         number of shards (array tasks 1..N)
#   OUTDIR    output root on a file system every node sees; shards go to OUTDIR/shards,
#             logs to OUTDIR/logs, the merged result to OUTDIR/merged
#   --tasks LIST  submit only these array tasks (e.g. 3 or 2,5-7), to resubmit failed ones;
#             a new merge job waits for them. Finished shards are skipped by remnant itself.
#   remnant run args, e.g. --patients 10000000 --seed 7, are passed to every shard; give the
#   same ones when resubmitting.
#
# Environment:
#   REMNANT_BIN            remnant binary (default: target/release/remnant of this checkout)
#   REMNANT_CPUS_PER_TASK  --cpus-per-task of each shard task; the shard uses that many threads
#   REMNANT_MAX_PARALLEL   run at most this many shard tasks at once (array throttle %M)
#   REMNANT_SBATCH_ARGS    further sbatch options for both jobs, split on spaces
#                          (e.g. "--partition=compute --time=04:00:00 --account=liver")
#   REMNANT_NO_CHECK=1     skip checking the scenario and arguments before submitting
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

tasks=
while [ $# -gt 0 ]; do
    case $1 in
        --tasks) [ $# -ge 2 ] || usage; tasks=$2; shift 2 ;;
        --tasks=*) tasks=${1#--tasks=}; shift ;;
        -h|--help) usage ;;
        *) break ;;
    esac
done
[ $# -ge 3 ] || usage
scenario=$1 n=$2 out=$3
shift 3
extra=("$@")

die() { echo "submit.sh: $*" >&2; exit 2; }
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac; }

case $n in ''|*[!0-9]*|0) die "N must be a positive whole number, not '$n'" ;; esac
[ -f "$scenario" ] || die "no scenario file $scenario"
if [ -n "$tasks" ]; then
    [[ $tasks =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] || die "--tasks wants a list like 3 or 2,5-7, not '$tasks'"
    for t in ${tasks//[,-]/ }; do
        { [ "$t" -ge 1 ] && [ "$t" -le "$n" ]; } || die "task $t is outside 1..$n"
    done
fi
command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm login node"

scenario=$(abs "$scenario")
out=$(abs "$out")
if [ -n "${REMNANT_BIN:-}" ]; then
    bin=$(abs "$REMNANT_BIN")
else
    bin=${CARGO_TARGET_DIR:-$repo/target}/release/remnant
    case $bin in /*) ;; *) bin=$repo/$bin ;; esac
fi
[ -x "$bin" ] || die "no remnant binary at $bin (cargo build --release, or set REMNANT_BIN)"

if [ "${REMNANT_NO_CHECK:-0}" != 1 ]; then
    # Fail now rather than after a wait in the queue: check scenario and arguments, write nothing.
    "$bin" run "$scenario" --shard "1/$n" --dry-run --out "$out/shards/.submit-check-$$" --quiet "${extra[@]}" >/dev/null ||
        die "remnant rejected the scenario or arguments (see above; REMNANT_NO_CHECK=1 skips this check)"
fi

mkdir -p "$out/shards" "$out/logs"
export REMNANT_BIN=$bin REMNANT_SCENARIO=$scenario REMNANT_OUT=$out REMNANT_SHARDS=$n

# Deliberately split on spaces: a list of sbatch options.
# shellcheck disable=SC2206
sbatch_args=(${REMNANT_SBATCH_ARGS:-})
array=${tasks:-1-$n}
array_spec=$array${REMNANT_MAX_PARALLEL:+%$REMNANT_MAX_PARALLEL}
shard_opts=(--output="$out/logs/shard-%a-of-$n.job-%A.out")
if [ -n "${REMNANT_CPUS_PER_TASK:-}" ]; then
    shard_opts+=(--cpus-per-task="$REMNANT_CPUS_PER_TASK")
fi

array_id=$(sbatch --parsable --array="$array_spec" "${sbatch_args[@]}" "${shard_opts[@]}" \
    "$here/remnant-array.sbatch" "${extra[@]}")
array_id=${array_id%%;*}
merge_id=$(sbatch --parsable "${sbatch_args[@]}" \
    --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
    --output="$out/logs/merge.job-%j.out" "$here/remnant-merge.sbatch") ||
    { echo "submit.sh: the shards are queued as job $array_id, but the merge job was not" >&2; exit 1; }
merge_id=${merge_id%%;*}
printf '%s\tarray %s\tmerge %s\ttasks %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$array_id" "$merge_id" "$array" >> "$out/logs/jobs.txt"

q() { [ $# -eq 0 ] || printf ' %q' "$@"; }
echo "array job: $array_id (shard tasks $array of $n) -> $out/shards"
echo "merge job: $merge_id (starts after every shard task succeeds) -> $out/merged"
echo "logs:      $out/logs"
echo
echo "Check progress:"
echo "  squeue -j $array_id,$merge_id"
echo "  sacct -j $array_id -X -o JobID,State,ExitCode,Elapsed    (where accounting is enabled)"
echo "If a shard task fails, the merge job is cancelled. Resubmit the failed tasks K (shards"
echo "already complete are skipped by remnant) together with a new merge job:"
echo " $(q "$here/submit.sh") --tasks K[,K...]$(q "$scenario" "$n" "$out" "${extra[@]}")"
echo "or only shard tasks, by hand (then submit remnant-merge.sbatch with the same variables):"
echo " $(q env REMNANT_BIN="$bin" REMNANT_SCENARIO="$scenario" REMNANT_OUT="$out" REMNANT_SHARDS="$n") \\"
echo "   sbatch --array=K$(q "${sbatch_args[@]}" "${shard_opts[@]}" "$here/remnant-array.sbatch" "${extra[@]}")"
