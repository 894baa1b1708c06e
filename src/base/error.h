// The exceptions the library throws. Each message is one line that names the file, key or value
// at fault; main() prints it once and maps the kind of error to the exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace cardsynth {

// Exit codes of the program, shared by every command.
enum ExitCode : int {
    kExitOk = 0,
    kExitFailure = 1,      // a run failed (I/O, a broken input found late, an MPI peer lost)
    kExitUsage = 2,        // bad command line or configuration; nothing was created
    kExitInterrupted = 75  // stopped by a signal at a round boundary; the output is resumable
};

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
    virtual int exit_code() const { return kExitFailure; }
};

// A bad configuration key, type or value, or a bad command line.
class ConfigError : public Error {
  public:
    explicit ConfigError(const std::string& what) : Error(what) {}
    int exit_code() const override { return kExitUsage; }
};

// An input file (card image, popularity table, background) that cannot be used.
class InputError : public Error {
  public:
    explicit InputError(const std::string& what) : Error(what) {}
    int exit_code() const override { return kExitUsage; }
};

// Reading or writing the dataset failed.
class DatasetError : public Error {
  public:
    explicit DatasetError(const std::string& what) : Error(what) {}
};

// An MPI call returned an error code (the job's communicators return codes instead of aborting).
class MpiError : public Error {
  public:
    explicit MpiError(const std::string& what) : Error(what) {}
};

// The run was stopped by SIGINT, SIGTERM or SIGUSR1 and left a resumable file.
class Interrupted : public Error {
  public:
    explicit Interrupted(const std::string& what) : Error(what) {}
    int exit_code() const override { return kExitInterrupted; }
};

}  // namespace cardsynth
