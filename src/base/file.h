// Files: an owning descriptor and the few whole-file operations nhitrace needs.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <sys/types.h>

#include "base/status.h"

namespace nhitrace {

// Owns a POSIX file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset();

 private:
  int fd_ = -1;
};

// Reads a whole file. Fails with kResourceExhausted when it is larger than `max_bytes`.
Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 64 << 20);

// Creates `path` (which must not exist; symlinks are not followed) with permission `mode`,
// writes `contents`, and fsyncs the file and its directory. Used for secrets: the mode is set
// at creation, so the file is never readable by others, not even briefly.
Status WriteNewFile(const std::string& path, std::string_view contents, mode_t mode);

// Returns the permission bits of `path` (e.g. 0600).
Result<mode_t> FileMode(const std::string& path);

bool PathExists(const std::string& path);

// Returns a short description of errno for messages: "No such file or directory".
std::string ErrnoMessage(int err);

}  // namespace nhitrace
