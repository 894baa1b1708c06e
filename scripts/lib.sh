# Shared by scripts/test and scripts/demo (sourced, not run): the repository root, the build
# through the CMake presets, and the MPI launcher line for this machine.
# shellcheck shell=bash

CS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

cs_log() { printf '%s: %s\n' "${CS_SCRIPT:-cardsynth}" "$*" >&2; }

cs_is_root() { [ "$(id -u)" -eq 0 ]; }

# -h or --help anywhere among the arguments: prints the calling script's header comment (its
# usage) and exits 0, before anything is installed or built.
cs_help_if_asked() {
    local arg
    for arg in "$@"; do
        case $arg in
            -h | --help)
                sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "$0"
                exit 0
                ;;
        esac
    done
}

# Configures and builds one preset (release or debug) with every core of the machine.
cs_build() {
    local preset=$1
    cs_log "configuring and building the $preset preset"
    (cd "$CS_ROOT" && cmake --preset "$preset" && cmake --build --preset "$preset" -j "$(nproc)")
}

# Fills the array CS_LAUNCH with the command that starts NP ranks here: mpirun when it exists,
# else nothing (one process). --bind-to none because Open MPI binds each rank to one core when
# there are few ranks, and cardsynth sizes its thread count from the cores it may run on.
cs_mpi_launcher() {
    local np=$1
    CS_LAUNCH=()
    if ! command -v mpirun >/dev/null 2>&1; then
        cs_log "mpirun not found: running one process instead of $np"
        return 0
    fi
    CS_LAUNCH=(mpirun -np "$np" --bind-to none)
    # Lets NP ranks start on a machine with fewer cores than NP.
    CS_LAUNCH+=(--oversubscribe)
    if cs_is_root; then
        CS_LAUNCH+=(--allow-run-as-root)
    fi
}
