// Writing a report file: created under a temporary name next to it (mode 0600), filled, fsync'd,
// and then linked to its name, so an incomplete file never appears under the name.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nhitrace::report::internal {

// Calls `produce` with a sink that appends to the file; kAlreadyExists when `path` exists (or
// appears meanwhile); the temporary file is removed on any error.
Status WriteNewFileFrom(
    const std::string& path,
    const std::function<Status(const std::function<Status(std::string_view)>& sink)>& produce);

}  // namespace nhitrace::report::internal
