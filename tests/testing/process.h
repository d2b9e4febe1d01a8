// Running the nhitrace binary (or any program) from black-box tests.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace nhitrace::testing {

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128 + signal
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs argv[0] (a path) with the arguments, feeding `input` on stdin, and waits.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input = "");

// The nhitrace binary under test: $NHITRACE_BINARY, else the one this build made.
std::string NhitraceBinary();

// Runs the nhitrace binary with `--store store` followed by `args`.
ProcessResult RunNhitrace(const std::string& store, const std::vector<std::string>& args,
                          const std::string& input = "");

// A child process whose stderr can be read line by line while it runs.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads the next line of the child's stderr; false at EOF.
  bool ReadErrLine(std::string* line);
  void Kill(int signal);
  // Waits; returns the exit status or 128 + signal.
  int Wait();

 private:
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string buffer_;
  bool waited_ = false;
};

}  // namespace nhitrace::testing
