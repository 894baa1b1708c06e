// Messages for the user. Only one rank speaks (rank 0 by default), so a job of 64 ranks prints
// each warning once; every line goes to stderr except the program's regular report (stdout).
#pragma once

#include <string>

namespace cardsynth::log {

// Whether this process prints; set once after MPI starts.
void set_speaker(bool speaks);
bool is_speaker();

// A line of the regular report on stdout, e.g. "[system] Available CPU cores: 2".
void info(const std::string& line);
// "warning: ..." on stderr.
void warn(const std::string& line);

}  // namespace cardsynth::log
