// SIGINT, SIGTERM, SIGUSR1 (SLURM's warning before the time limit) and SIGHUP (the terminal or ssh
// session closing) only set a flag. Render threads stop starting images when they see it, ending
// the round early; the run combines the flags of all ranks at the round boundary, flushes, and
// exits with code 75.
#pragma once

namespace cardsynth {

void install_stop_signals();
// The signal received (0 when none).
int stop_signal();
const char* signal_name(int sig);

}  // namespace cardsynth
