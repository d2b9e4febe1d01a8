#include "tlog/checkpoint.h"

#include <charconv>

#include "base/encoding.h"

namespace nhitrace::tlog {

std::string Checkpoint::Body() const {
  std::string s = origin;
  s += '\n';
  s += std::to_string(size);
  s += '\n';
  s += Base64Encode(crypto::AsBytes(root));
  s += '\n';
  for (const auto& e : extensions) {
    s += e;
    s += '\n';
  }
  return s;
}

Result<Checkpoint> Checkpoint::ParseBody(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return InvalidArgumentError("checkpoint must end with a newline");
  }
  std::vector<std::string_view> lines;
  std::string_view rest = text.substr(0, text.size() - 1);
  for (;;) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) {
    return InvalidArgumentError("checkpoint needs origin, size and root lines");
  }
  Checkpoint cp;
  cp.origin = std::string(lines[0]);
  if (cp.origin.empty()) return InvalidArgumentError("checkpoint line 1: empty origin");
  std::string_view size = lines[1];
  if (size.empty() || (size.size() > 1 && size[0] == '0')) {
    return InvalidArgumentError("checkpoint line 2: size must be a decimal without leading zeros");
  }
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), cp.size);
  if (ec != std::errc() || end != size.data() + size.size()) {
    return InvalidArgumentError("checkpoint line 2: size is not a 64-bit decimal");
  }
  auto root = Base64Decode(lines[2]);
  auto h = root ? crypto::HashFromBytes(*root) : std::nullopt;
  if (!h) return InvalidArgumentError("checkpoint line 3: root must be base64 of 32 bytes");
  cp.root = *h;
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return InvalidArgumentError("checkpoint line " + std::to_string(i + 1) +
                                  ": empty extension line");
    }
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

Result<std::string> SignCheckpoint(const Checkpoint& cp, const NoteSigner& signer) {
  return SignNote(cp.Body(), signer);
}

Result<Checkpoint> OpenCheckpoint(std::string_view signed_note, const NoteVerifier& verifier,
                                  std::string_view origin) {
  NHI_ASSIGN_OR_RETURN(OpenedNote note, OpenNote(signed_note, {verifier}));
  NHI_ASSIGN_OR_RETURN(Checkpoint cp, Checkpoint::ParseBody(note.text));
  std::string_view want = origin.empty() ? std::string_view(verifier.name) : origin;
  if (cp.origin != want) {
    return UnauthenticatedError("checkpoint origin \"" + cp.origin + "\" is not \"" +
                                std::string(want) + "\"");
  }
  return cp;
}

}  // namespace nhitrace::tlog
