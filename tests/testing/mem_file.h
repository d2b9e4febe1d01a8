// An in-memory file (memfd) holding given bytes, positioned at the start.
#pragma once

#include <string>

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/file.h"

namespace nhitrace::testing {

inline UniqueFd MemFile(const std::string& contents) {
  UniqueFd fd(memfd_create("input", MFD_CLOEXEC));
  EXPECT_EQ(write(fd.get(), contents.data(), contents.size()),
            static_cast<ssize_t>(contents.size()));
  lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

}  // namespace nhitrace::testing
