# The body that slurm/generate.sbatch and slurm/generate-gpu.sbatch share (sourced, not run).
# It runs `cardsynth generate` over the job's tasks and turns an interruption into a requeue:
#   - threads per rank come from --cpus-per-task (OMP_NUM_THREADS, which cardsynth honours);
#   - after a requeue (SLURM_RESTART_COUNT > 0) it adds --resume and drops --overwrite, so the
#     run continues the OUT.partial that the previous attempt left instead of starting again;
#   - SLURM's warning signal (USR1, from --signal=B:USR1@120) and TERM reach this shell, which
#     passes USR1 on to the ranks; they finish the round, flush, and exit 75;
#   - after USR1, exit 75 becomes `scontrol requeue`, and the job starts again where it stopped
#     (after TERM, from scancel, the job just ends; its OUT.partial can still be resumed).
# shellcheck shell=bash

# cardsynth_slurm_run DEFAULTS... -- ARGS...: runs `cardsynth generate DEFAULTS ARGS`, where a
# default flag is left out when ARGS gives the same flag (CLI11 refuses a flag given twice).
cardsynth_slurm_run() {
    local -a defaults=() args=() launch=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        defaults+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    args=("$@")

    export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
    # Since SLURM 22.05 srun does not inherit --cpus-per-task from sbatch; this passes it on.
    if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then
        export SRUN_CPUS_PER_TASK=$SLURM_CPUS_PER_TASK
    fi

    local bin=${CARDSYNTH_BIN:-${CARDSYNTH_HOME:-.}/build/release/cardsynth}
    if [ ! -x "$bin" ]; then
        echo "cardsynth: no executable at $bin; build it (cmake --preset release &&" \
            "cmake --build --preset release) or set CARDSYNTH_BIN" >&2
        return 1
    fi

    if [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
        local -a kept=()
        local a
        for a in "${args[@]}"; do
            [ "$a" = --overwrite ] || kept+=("$a")
        done
        args=("${kept[@]}")
        cardsynth_has_flag --resume "${args[@]}" || args+=(--resume)
        echo "cardsynth: restart ${SLURM_RESTART_COUNT} of job ${SLURM_JOB_ID:-?}; resuming"
    fi
    local -a chosen=()
    local i=0
    while [ $i -lt ${#defaults[@]} ]; do
        # Defaults come as pairs: a flag and its value.
        if ! cardsynth_has_flag "${defaults[$i]}" "${args[@]}"; then
            chosen+=("${defaults[$i]}" "${defaults[$((i + 1))]}")
        fi
        i=$((i + 2))
    done

    # CARDSYNTH_LAUNCHER=srun|mpirun|none forces a launcher (none: one process, no MPI);
    # by default srun when SLURM has its PMIx plugin, else Open MPI's mpirun.
    local how=${CARDSYNTH_LAUNCHER:-auto}
    if [ "$how" = auto ]; then
        how=none
        if command -v srun >/dev/null 2>&1 && srun --mpi=list 2>&1 | grep -qw pmix; then
            how=srun
        elif command -v mpirun >/dev/null 2>&1; then
            how=mpirun
        fi
    fi
    case $how in
        srun) launch=(srun --mpi=pmix) ;;
        mpirun)
            # mpirun reads the allocation from SLURM; --bind-to none leaves each rank all the
            # cores SLURM gave it (cardsynth sizes its threads from them).
            launch=(mpirun -np "${SLURM_NTASKS:-1}" --bind-to none)
            if [ "$(id -u)" -eq 0 ]; then
                launch+=(--allow-run-as-root --oversubscribe)
            fi
            ;;
        none) ;;
        *) echo "cardsynth: CARDSYNTH_LAUNCHER must be srun, mpirun or none, not '$how'" >&2; return 2 ;;
    esac

    local -a cmd=("${launch[@]}" "$bin" generate "${chosen[@]}" "${args[@]}")
    echo "cardsynth: ${cmd[*]}"
    "${cmd[@]}" &
    local pid=$!
    # The ranks get USR1 for TERM too: mpirun answers TERM by killing the ranks a second later,
    # USR1 it forwards, and cardsynth treats both alike (finish the round, flush, exit 75).
    # Only USR1 (the time-limit warning, or `scancel -b -s USR1`) asks for a requeue: TERM is
    # scancel or preemption, after which the job must end (SLURM requeues preempted jobs itself).
    CARDSYNTH_REQUEUE=0
    trap 'CARDSYNTH_REQUEUE=1; cardsynth_forward "$pid"' USR1
    trap 'cardsynth_forward "$pid"' TERM INT

    local rc
    while :; do
        rc=0
        wait "$pid" || rc=$?
        # A trapped signal interrupts `wait` (status > 128) while the step still runs.
        kill -0 "$pid" 2>/dev/null || break
    done
    # The step has ended: this `wait` returns its own status, not the interruption's.
    rc=0
    wait "$pid" || rc=$?
    trap - USR1 TERM INT

    if [ "$rc" -eq 75 ] && [ "$CARDSYNTH_REQUEUE" -eq 1 ]; then
        # Said first: the requeue kills this shell.
        echo "cardsynth: stopped before the time limit; job ${SLURM_JOB_ID} requeued to resume"
        if scontrol requeue "${SLURM_JOB_ID:?}"; then
            return 0
        fi
        echo "cardsynth: could not requeue job ${SLURM_JOB_ID}" >&2
    fi
    if [ "$rc" -eq 75 ]; then
        echo "cardsynth: interrupted; the output's .partial file resumes with --resume" >&2
    fi
    return "$rc"
}

# cardsynth_forward PID: asks the job step to stop at the next round boundary.
cardsynth_forward() {
    echo "cardsynth: signal received; asking the ranks to stop after this round"
    kill -s USR1 "$1" 2>/dev/null || true
}

# cardsynth_has_flag FLAG ARGS...: whether ARGS contain FLAG, alone or as FLAG=VALUE.
cardsynth_has_flag() {
    local flag=$1 a
    shift
    for a in "$@"; do
        case $a in "$flag" | "$flag"=*) return 0 ;; esac
    done
    return 1
}
