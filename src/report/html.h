// The report as one self-contained HTML file (docs/report.md): inline CSS and inline SVG charts,
// nothing that loads anything (no script, font, image or link), and a Content-Security-Policy
// that forbids all of it (default-src 'none'; the one style element allowed by its hash).
//
// Every string from the store is evidence an attacker may have written: it is escaped for the
// text or attribute it lands in. Every number shown carries a data-k attribute naming it, so
// that a test (or a script of the reader's) can read the rendered values back.
#pragma once

#include <string>
#include <string_view>

#include "report/model.h"

namespace nhitrace::report {

// Escapes & < > " ' for HTML text and quoted attribute values; bytes that are not valid UTF-8
// become U+FFFD, and control characters other than tab, newline and carriage return too.
std::string HtmlEscape(std::string_view s);

// The report page.
std::string RenderHtml(const ReportModel& model);

// Writes `html` into a new file `path` (mode 0600), under a temporary name first, so an
// incomplete report never appears under its name. kAlreadyExists when `path` exists.
Status WriteHtmlFile(const std::string& path, std::string_view html);

}  // namespace nhitrace::report
