#include "report/internal/new_file.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include "base/file.h"

namespace nhitrace::report::internal {
namespace {

// Removes a temporary file unless it was never created.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

Status WriteNewFileFrom(
    const std::string& path,
    const std::function<Status(const std::function<Status(std::string_view)>& sink)>& produce) {
  if (path.empty()) return InvalidArgumentError("no output file given");
  if (PathExists(path)) return AlreadyExistsError(path + ": a file is already there");
  std::string tmpl = path + ".tmp-XXXXXX";
  UniqueFd fd(::mkstemp(tmpl.data()));  // mode 0600
  if (!fd.valid()) return UnavailableError(path + ": cannot create it: " + ErrnoMessage(errno));
  TempFile tmp(tmpl);
  std::string buf;
  auto flush = [&]() -> Status {
    size_t done = 0;
    while (done < buf.size()) {
      ssize_t n = ::write(fd.get(), buf.data() + done, buf.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return UnavailableError(path + ": cannot write: " + ErrnoMessage(errno));
      done += static_cast<size_t>(n);
    }
    buf.clear();
    return OkStatus();
  };
  NHI_RETURN_IF_ERROR(produce([&](std::string_view s) -> Status {
    buf.append(s);
    return buf.size() >= (1 << 20) ? flush() : OkStatus();
  }));
  NHI_RETURN_IF_ERROR(flush());
  if (::fsync(fd.get()) != 0) return UnavailableError(path + ": fsync: " + ErrnoMessage(errno));
  // link() refuses to replace a file that appeared meanwhile.
  if (::link(tmp.path().c_str(), path.c_str()) != 0) {
    int err = errno;
    std::string m = path + ": cannot create it: " + ErrnoMessage(err);
    return err == EEXIST ? AlreadyExistsError(m) : UnavailableError(m);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  UniqueFd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) ::fsync(dfd.get());
  return OkStatus();
}

}  // namespace nhitrace::report::internal
