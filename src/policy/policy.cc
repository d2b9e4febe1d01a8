// Parsing and validating a policy document (docs/format/policy.md).
#include "policy/policy.h"

#include <algorithm>
#include <set>

#include "base/encoding.h"
#include "crypto/sha256.h"
#include "json/canonical.h"
#include "policy/duration.h"
#include "policy/internal/yaml_tree.h"

namespace nhitrace::policy {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "?";
}

std::optional<Severity> ParseSeverity(std::string_view s) {
  for (Severity v : kAllSeverities) {
    if (SeverityName(v) == s) return v;
  }
  return std::nullopt;
}

namespace {

const ParamValue* FindParam(const RuleSettings& r, std::string_view name, ParamValue::Type type) {
  auto it = r.params.find(name);
  if (it == r.params.end() || it->second.type != type) return nullptr;
  return &it->second;
}

}  // namespace

int64_t RuleSettings::Duration(std::string_view name) const {
  const ParamValue* p = FindParam(*this, name, ParamValue::Type::kDuration);
  return p ? p->number : 0;
}
int64_t RuleSettings::Integer(std::string_view name) const {
  const ParamValue* p = FindParam(*this, name, ParamValue::Type::kInteger);
  return p ? p->number : 0;
}
bool RuleSettings::Bool(std::string_view name) const {
  const ParamValue* p = FindParam(*this, name, ParamValue::Type::kBool);
  return p && p->number != 0;
}
const std::string& RuleSettings::Choice(std::string_view name) const {
  static const std::string kEmpty;
  const ParamValue* p = FindParam(*this, name, ParamValue::Type::kChoice);
  return p ? p->text : kEmpty;
}

bool Authoritative::Counts(const std::vector<std::string>& systems, std::string_view system) {
  return systems.empty() || std::find(systems.begin(), systems.end(), system) != systems.end();
}

std::vector<std::string> Approvals::RolesOf(std::string_view actor) const {
  std::vector<std::string> out;
  for (const auto& [role, members] : roles) {
    if (std::find(members.begin(), members.end(), actor) != members.end()) out.push_back(role);
  }
  return out;
}

const RuleSettings& Policy::Rule(std::string_view rule_id) const {
  static const RuleSettings kDisabled = [] {
    RuleSettings r;
    r.enabled = false;
    return r;
  }();
  auto it = rules.find(rule_id);
  return it == rules.end() ? kDisabled : it->second;
}

event::PolicyRef Policy::Ref() const {
  return event::PolicyRef{id, version ? std::to_string(version) : "", hash};
}

namespace {

using internal::YamlNode;

std::string Sha256Ref(std::string_view bytes) {
  return "sha256:" + HexEncode(crypto::AsBytes(crypto::Sha256(bytes)));
}

// "a, b or c"
std::string OneOf(const std::vector<std::string_view>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// The default value of a parameter, parsed.
ParamValue DefaultValue(const ParamSchema& p) {
  ParamValue v;
  v.type = p.type;
  switch (p.type) {
    case ParamValue::Type::kDuration: {
      auto d = ParseDuration(p.default_value);
      v.number = d.ok() ? *d : 0;
      v.text = std::string(p.default_value);
      break;
    }
    case ParamValue::Type::kInteger:
      v.number = std::stoll(std::string(p.default_value));
      break;
    case ParamValue::Type::kBool:
      v.number = p.default_value == "true" ? 1 : 0;
      break;
    case ParamValue::Type::kChoice:
      v.text = std::string(p.default_value);
      break;
  }
  return v;
}

bool IsOwaspId(std::string_view s) {
  // NHI1 .. NHI10, optionally with the edition: NHI7:2025.
  if (s.size() > 5 && s.substr(s.size() - 5) == ":2025") s.remove_suffix(5);
  if (s.substr(0, 3) != "NHI") return false;
  std::string_view n = s.substr(3);
  return n == "1" || n == "2" || n == "3" || n == "4" || n == "5" || n == "6" || n == "7" ||
         n == "8" || n == "9" || n == "10";
}

bool IsNistCsfId(std::string_view s) {
  // Function.Category, optionally -NN: GV.RR, PR.AA-05, DE.CM-03.
  static const std::set<std::string_view> kFunctions = {"GV", "ID", "PR", "DE", "RS", "RC"};
  if (s.size() != 5 && s.size() != 8) return false;
  if (!kFunctions.count(s.substr(0, 2)) || s[2] != '.') return false;
  if (!std::isupper(static_cast<unsigned char>(s[3])) ||
      !std::isupper(static_cast<unsigned char>(s[4]))) {
    return false;
  }
  if (s.size() == 5) return true;
  return s[5] == '-' && std::isdigit(static_cast<unsigned char>(s[6])) &&
         std::isdigit(static_cast<unsigned char>(s[7]));
}

// Why `s` is not an identifier (the native event schema's rule), or "".
std::string IdentifierProblem(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 1024) return "longer than 1024 bytes";
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    bool c1 = u == 0xC2 && next >= 0x80 && next <= 0x9F;
    bool separator = u == 0xE2 && next == 0x80 && i + 2 < s.size() &&
                     (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                      static_cast<unsigned char>(s[i + 2]) == 0xA9);
    if (u < 0x20 || u == 0x7F || c1 || separator) {
      return "must not contain control characters or line separators";
    }
  }
  if (s.front() == ' ' || s.back() == ' ') return "must not start or end with a space";
  return "";
}

class Validator {
 public:
  explicit Validator(std::string_view source) : source_(source) {}

  Status Error(int line, int column, const std::string& path, const std::string& reason) const {
    return InvalidArgumentError(source_ + ":" + std::to_string(line) + ":" +
                                std::to_string(column) + ": " + (path.empty() ? "" : path + ": ") +
                                reason);
  }
  Status Error(const YamlNode& at, const std::string& path, const std::string& reason) const {
    return Error(at.line, at.column, path, reason);
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  static std::string Index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

  Status ExpectMap(const YamlNode& n, const std::string& path) const {
    if (n.type != YamlNode::Type::kMap) {
      return Error(
          n, path,
          "must be a mapping (key: value lines), got " + std::string(internal::TypeName(n)));
    }
    return OkStatus();
  }

  Status CheckKeys(const YamlNode& n, const std::string& path,
                   const std::vector<std::string_view>& allowed) const {
    for (const auto& e : n.map) {
      if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
        return Error(e.line, e.column, Join(path, e.key),
                     "unknown key (allowed here: " + OneOf(allowed) + ")");
      }
    }
    return OkStatus();
  }

  Status ReadIdentifier(const YamlNode& n, const std::string& path, std::string* out) const {
    if (n.type != YamlNode::Type::kString && n.type != YamlNode::Type::kInt) {
      return Error(n, path, "must be text, got " + std::string(internal::TypeName(n)));
    }
    std::string problem = IdentifierProblem(n.text);
    if (!problem.empty()) return Error(n, path, problem);
    *out = n.text;
    return OkStatus();
  }

  Status ReadText(const YamlNode& n, const std::string& path, std::string* out) const {
    if (n.type != YamlNode::Type::kString) {
      return Error(n, path, "must be text, got " + std::string(internal::TypeName(n)));
    }
    if (n.text.empty()) return Error(n, path, "must not be empty");
    if (n.text.size() > 65536) return Error(n, path, "longer than 65536 bytes");
    *out = n.text;
    return OkStatus();
  }

  Status ReadBool(const YamlNode& n, const std::string& path, bool* out) const {
    if (n.type != YamlNode::Type::kBool) {
      return Error(n, path,
                   "must be true or false, got " + (n.is_scalar() && !n.text.empty()
                                                        ? "\"" + n.text + "\""
                                                        : std::string(internal::TypeName(n))));
    }
    *out = n.boolean;
    return OkStatus();
  }

  Status ReadDuration(const YamlNode& n, const std::string& path, int64_t* ns,
                      std::string* text) const {
    if (n.type != YamlNode::Type::kString) {
      return Error(n, path,
                   "must be a duration such as 90d, 72h or 30m, got " +
                       (n.is_scalar() && !n.text.empty() ? "\"" + n.text + "\""
                                                         : std::string(internal::TypeName(n))));
    }
    auto d = ParseDuration(n.text);
    if (!d.ok()) return Error(n, path, d.status().message() + ": \"" + n.text + "\"");
    *ns = *d;
    *text = n.text;
    return OkStatus();
  }

  // A list of identifiers; `check` (may be null) returns a problem for an item, or "".
  Status ReadList(const YamlNode& n, const std::string& path, std::vector<std::string>* out,
                  const std::function<std::string(const std::string&)>& check = nullptr) const {
    if (n.type != YamlNode::Type::kSeq) {
      return Error(n, path,
                   "must be a list ([a, b] or lines starting with '- '), got " +
                       std::string(internal::TypeName(n)));
    }
    out->clear();
    for (size_t i = 0; i < n.seq.size(); ++i) {
      std::string item;
      NHI_RETURN_IF_ERROR(ReadIdentifier(n.seq[i], Index(path, i), &item));
      if (check) {
        std::string problem = check(item);
        if (!problem.empty()) return Error(n.seq[i], Index(path, i), problem);
      }
      out->push_back(std::move(item));
    }
    return OkStatus();
  }

  Status ReadRule(const YamlNode::Entry& entry, const RuleSchema& schema, RuleSettings* r) const {
    const std::string path = Join("rules", entry.key);
    const YamlNode& n = entry.value;
    if (n.type == YamlNode::Type::kNull) return OkStatus();  // "rule-id:" alone: defaults
    NHI_RETURN_IF_ERROR(ExpectMap(n, path));
    std::vector<std::string_view> allowed = {
        "enabled", "severity", "identities", "exclude_identities", "kinds", "frameworks"};
    for (const ParamSchema& p : schema.params) allowed.push_back(p.name);
    NHI_RETURN_IF_ERROR(CheckKeys(n, path, allowed));
    for (const auto& e : n.map) {
      const std::string p = Join(path, e.key);
      const YamlNode& v = e.value;
      if (e.key == "enabled") {
        NHI_RETURN_IF_ERROR(ReadBool(v, p, &r->enabled));
      } else if (e.key == "severity") {
        std::string s;
        NHI_RETURN_IF_ERROR(ReadIdentifier(v, p, &s));
        r->severity = ParseSeverity(s);
        if (!r->severity) {
          return Error(v, p, "unknown severity \"" + s + "\" (one of low, medium, high, critical)");
        }
      } else if (e.key == "identities" || e.key == "exclude_identities") {
        NHI_RETURN_IF_ERROR(
            ReadList(v, p, e.key == "identities" ? &r->identities : &r->exclude_identities));
      } else if (e.key == "kinds") {
        NHI_RETURN_IF_ERROR(ReadList(v, p, &r->kinds, [](const std::string& k) {
          return event::IsSubjectKind(k)
                     ? std::string()
                     : "unknown subject kind \"" + k +
                           "\" (one of service_account, api_key, token, certificate, workload, "
                           "ai_agent, oauth_app, role, other)";
        }));
      } else if (e.key == "frameworks") {
        NHI_RETURN_IF_ERROR(ExpectMap(v, p));
        NHI_RETURN_IF_ERROR(CheckKeys(v, p, {"owasp", "nist"}));
        for (const auto& f : v.map) {
          if (f.key == "owasp") {
            NHI_RETURN_IF_ERROR(ReadList(f.value, Join(p, f.key), &r->owasp, [](const auto& s) {
              return IsOwaspId(s) ? std::string()
                                  : "not an OWASP NHI Top 10 id (NHI1 .. NHI10, e.g. NHI7:2025)";
            }));
          } else {
            NHI_RETURN_IF_ERROR(ReadList(f.value, Join(p, f.key), &r->nist, [](const auto& s) {
              return IsNistCsfId(s)
                         ? std::string()
                         : "not a NIST CSF 2.0 category or subcategory (e.g. PR.AA-05, DE.CM)";
            }));
          }
        }
      } else {
        const ParamSchema* ps = nullptr;
        for (const ParamSchema& cand : schema.params) {
          if (cand.name == e.key) ps = &cand;
        }
        ParamValue& pv = r->params[e.key];
        switch (ps->type) {
          case ParamValue::Type::kDuration:
            NHI_RETURN_IF_ERROR(ReadDuration(v, p, &pv.number, &pv.text));
            break;
          case ParamValue::Type::kBool: {
            bool b = false;
            NHI_RETURN_IF_ERROR(ReadBool(v, p, &b));
            pv.number = b ? 1 : 0;
            break;
          }
          case ParamValue::Type::kInteger:
            if (v.type != YamlNode::Type::kInt) {
              return Error(v, p,
                           "must be a whole number, got " + std::string(internal::TypeName(v)));
            }
            if (v.integer < ps->min) {
              return Error(v, p, "must be at least " + std::to_string(ps->min));
            }
            pv.number = v.integer;
            break;
          case ParamValue::Type::kChoice: {
            std::string s;
            NHI_RETURN_IF_ERROR(ReadIdentifier(v, p, &s));
            if (std::find(ps->choices.begin(), ps->choices.end(), s) == ps->choices.end()) {
              return Error(v, p, "unknown value \"" + s + "\" (one of " + OneOf(ps->choices) + ")");
            }
            pv.text = s;
            break;
          }
        }
      }
    }
    return OkStatus();
  }

  Status ReadRules(const YamlNode& n, Policy* p) const {
    NHI_RETURN_IF_ERROR(ExpectMap(n, "rules"));
    for (const auto& e : n.map) {
      const RuleSchema* schema = FindRuleSchema(e.key);
      if (!schema) {
        std::vector<std::string_view> ids;
        for (const RuleSchema& s : RuleSchemas()) ids.push_back(s.id);
        return Error(e.line, e.column, Join("rules", e.key),
                     "unknown rule (the rules are: " + OneOf(ids) + ")");
      }
      NHI_RETURN_IF_ERROR(ReadRule(e, *schema, &p->rules[e.key]));
    }
    return OkStatus();
  }

  Status ReadAuthoritative(const YamlNode& n, Authoritative* a) const {
    NHI_RETURN_IF_ERROR(ExpectMap(n, "authoritative"));
    NHI_RETURN_IF_ERROR(CheckKeys(n, "authoritative", {"approval", "issuance", "live_state"}));
    for (const auto& e : n.map) {
      auto* list = e.key == "approval"   ? &a->approval
                   : e.key == "issuance" ? &a->issuance
                                         : &a->live_state;
      NHI_RETURN_IF_ERROR(ReadList(e.value, Join("authoritative", e.key), list));
    }
    return OkStatus();
  }

  Status ReadApprovals(const YamlNode& n, Approvals* a) const {
    const std::string path = "approvals";
    NHI_RETURN_IF_ERROR(ExpectMap(n, path));
    NHI_RETURN_IF_ERROR(
        CheckKeys(n, path, {"roles", "may_approve", "segregation_of_duties", "override"}));
    // Roles first: the other keys refer to them.
    if (const YamlNode* roles = n.Find("roles")) {
      NHI_RETURN_IF_ERROR(ExpectMap(*roles, "approvals.roles"));
      for (const auto& e : roles->map) {
        std::string problem = IdentifierProblem(e.key);
        if (!problem.empty())
          return Error(e.line, e.column, Join("approvals.roles", e.key), problem);
        NHI_RETURN_IF_ERROR(ReadList(e.value, Join("approvals.roles", e.key), &a->roles[e.key]));
      }
    }
    auto known_role = [&](const std::string& r) {
      return a->roles.count(r) ? std::string()
                               : "unknown role \"" + r + "\" (define it under approvals.roles)";
    };
    for (const auto& e : n.map) {
      const std::string p = Join(path, e.key);
      if (e.key == "segregation_of_duties") {
        NHI_RETURN_IF_ERROR(ReadBool(e.value, p, &a->segregation_of_duties));
      } else if (e.key == "may_approve") {
        if (e.value.type != YamlNode::Type::kSeq) {
          return Error(e.value, p, "must be a list of {role, resources, permissions, kinds}");
        }
        for (size_t i = 0; i < e.value.seq.size(); ++i) {
          const YamlNode& item = e.value.seq[i];
          const std::string ip = Index(p, i);
          NHI_RETURN_IF_ERROR(ExpectMap(item, ip));
          NHI_RETURN_IF_ERROR(CheckKeys(item, ip, {"role", "resources", "permissions", "kinds"}));
          ApprovalGrant g;
          const YamlNode* role = item.Find("role");
          if (!role) return Error(item, ip, "needs a role");
          NHI_RETURN_IF_ERROR(ReadIdentifier(*role, Join(ip, "role"), &g.role));
          std::string problem = known_role(g.role);
          if (!problem.empty()) return Error(*role, Join(ip, "role"), problem);
          for (const auto& f : item.map) {
            if (f.key == "resources") {
              NHI_RETURN_IF_ERROR(ReadList(f.value, Join(ip, f.key), &g.resources));
            } else if (f.key == "permissions") {
              NHI_RETURN_IF_ERROR(ReadList(f.value, Join(ip, f.key), &g.permissions));
            } else if (f.key == "kinds") {
              NHI_RETURN_IF_ERROR(ReadList(f.value, Join(ip, f.key), &g.kinds, [](const auto& k) {
                return event::IsSubjectKind(k) ? std::string()
                                               : "unknown subject kind \"" + k + "\"";
              }));
            }
          }
          a->may_approve.push_back(std::move(g));
        }
      } else if (e.key == "override") {
        NHI_RETURN_IF_ERROR(ExpectMap(e.value, p));
        NHI_RETURN_IF_ERROR(
            CheckKeys(e.value, p, {"requires_control_owner", "control_owner_roles"}));
        a->override_requires_control_owner = true;
        for (const auto& f : e.value.map) {
          if (f.key == "requires_control_owner") {
            NHI_RETURN_IF_ERROR(
                ReadBool(f.value, Join(p, f.key), &a->override_requires_control_owner));
          } else {
            NHI_RETURN_IF_ERROR(
                ReadList(f.value, Join(p, f.key), &a->control_owner_roles, known_role));
          }
        }
        if (a->override_requires_control_owner && a->control_owner_roles.empty()) {
          return Error(e.value, p,
                       "requires_control_owner is true (the default) but no control_owner_roles "
                       "are named");
        }
      }
    }
    return OkStatus();
  }

  Status ReadEscalation(const YamlNode& n, const Approvals& approvals, Escalation* out) const {
    (void)approvals;
    NHI_RETURN_IF_ERROR(ExpectMap(n, "escalation"));
    NHI_RETURN_IF_ERROR(CheckKeys(n, "escalation", {"paths", "findings"}));
    if (const YamlNode* paths = n.Find("paths")) {
      NHI_RETURN_IF_ERROR(ExpectMap(*paths, "escalation.paths"));
      for (const auto& e : paths->map) {
        const std::string p = Join("escalation.paths", e.key);
        std::string problem = IdentifierProblem(e.key);
        if (!problem.empty()) return Error(e.line, e.column, p, problem);
        if (e.value.type != YamlNode::Type::kSeq || e.value.seq.empty()) {
          return Error(e.value, p, "must be a non-empty list of steps {after, to}");
        }
        std::vector<EscalationStep>& steps = out->paths[e.key];
        for (size_t i = 0; i < e.value.seq.size(); ++i) {
          const YamlNode& item = e.value.seq[i];
          const std::string ip = Index(p, i);
          NHI_RETURN_IF_ERROR(ExpectMap(item, ip));
          NHI_RETURN_IF_ERROR(CheckKeys(item, ip, {"after", "to"}));
          const YamlNode* after = item.Find("after");
          const YamlNode* to = item.Find("to");
          if (!after || !to) return Error(item, ip, "a step needs both `after` and `to`");
          EscalationStep step;
          std::string text;
          NHI_RETURN_IF_ERROR(ReadDuration(*after, Join(ip, "after"), &step.after_ns, &text));
          NHI_RETURN_IF_ERROR(ReadIdentifier(*to, Join(ip, "to"), &step.to));
          if (!steps.empty() && step.after_ns <= steps.back().after_ns) {
            return Error(*after, Join(ip, "after"),
                         "must be later than the step before (" +
                             FormatDuration(steps.back().after_ns) + ")");
          }
          steps.push_back(std::move(step));
        }
      }
    }
    if (const YamlNode* findings = n.Find("findings")) {
      NHI_RETURN_IF_ERROR(ExpectMap(*findings, "escalation.findings"));
      for (const auto& e : findings->map) {
        const std::string p = Join("escalation.findings", e.key);
        auto sev = ParseSeverity(e.key);
        if (!sev) {
          return Error(e.line, e.column, p,
                       "unknown severity (the keys here are low, medium, high, critical)");
        }
        std::string path_name;
        NHI_RETURN_IF_ERROR(ReadIdentifier(e.value, p, &path_name));
        if (!out->paths.count(path_name)) {
          return Error(
              e.value, p,
              "unknown escalation path \"" + path_name + "\" (define it under escalation.paths)");
        }
        out->findings[*sev] = path_name;
      }
    }
    return OkStatus();
  }

  Result<Policy> Run(const YamlNode& root, std::string_view bytes,
                     const ParseOptions& options) const {
    NHI_RETURN_IF_ERROR(ExpectMap(root, ""));
    NHI_RETURN_IF_ERROR(CheckKeys(root, "",
                                  {"nhitrace_policy", "id", "title", "description", "rules",
                                   "authoritative", "approvals", "escalation", "cases"}));
    Policy p;
    // Every known rule, with its defaults.
    for (const RuleSchema& s : RuleSchemas()) {
      RuleSettings r;
      for (const ParamSchema& ps : s.params) r.params[std::string(ps.name)] = DefaultValue(ps);
      p.rules.emplace(std::string(s.id), std::move(r));
    }
    const YamlNode* format = root.Find("nhitrace_policy");
    if (!format) {
      return Error(root, "nhitrace_policy",
                   "required: the format version of the document (write `nhitrace_policy: 1` "
                   "as the first line)");
    }
    if (format->type != YamlNode::Type::kInt || format->integer != kFormatVersion) {
      return Error(*format, "nhitrace_policy",
                   "unsupported format version \"" + format->text + "\" (this build reads " +
                       std::to_string(kFormatVersion) + ")");
    }
    const YamlNode* id = root.Find("id");
    if (!id) return Error(root, "id", "required: the policy's id (e.g. `id: acme-nhi-access`)");
    NHI_RETURN_IF_ERROR(ReadIdentifier(*id, "id", &p.id));
    if (const YamlNode* t = root.Find("title"))
      NHI_RETURN_IF_ERROR(ReadText(*t, "title", &p.title));
    if (const YamlNode* d = root.Find("description")) {
      std::string unused;
      NHI_RETURN_IF_ERROR(ReadText(*d, "description", &unused));
    }
    if (const YamlNode* r = root.Find("rules")) NHI_RETURN_IF_ERROR(ReadRules(*r, &p));
    if (const YamlNode* a = root.Find("authoritative")) {
      NHI_RETURN_IF_ERROR(ReadAuthoritative(*a, &p.authoritative));
    }
    if (const YamlNode* a = root.Find("approvals")) {
      NHI_RETURN_IF_ERROR(ReadApprovals(*a, &p.approvals));
    }
    if (const YamlNode* e = root.Find("escalation")) {
      NHI_RETURN_IF_ERROR(ReadEscalation(*e, p.approvals, &p.escalation));
      NHI_ASSIGN_OR_RETURN(p.escalation_json, json::Canonicalize(internal::ToJson(*e)));
    }
    if (const YamlNode* c = root.Find("cases")) {
      NHI_RETURN_IF_ERROR(ExpectMap(*c, "cases"));
      NHI_ASSIGN_OR_RETURN(p.cases_json, json::Canonicalize(internal::ToJson(*c)));
      if (options.validate_cases) {
        Status s = options.validate_cases(p.cases_json);
        if (!s.ok()) return Locate(root, s);
      }
    }
    p.document = std::string(bytes);
    p.hash = Sha256Ref(bytes);
    NHI_ASSIGN_OR_RETURN(p.canonical_json, json::Canonicalize(internal::ToJson(root)));
    p.canonical_hash = Sha256Ref(p.canonical_json);
    return p;
  }

  // Gives a section validator's "<path>: <reason>" error the position of <path> (or of the
  // nearest ancestor found).
  Status Locate(const YamlNode& root, const Status& s) const {
    const std::string& m = s.message();
    size_t colon = m.find(": ");
    std::string path = colon == std::string::npos ? "cases" : m.substr(0, colon);
    std::string reason = colon == std::string::npos ? m : m.substr(colon + 2);
    const YamlNode* at = &root;
    const YamlNode* node = &root;
    size_t i = 0;
    while (node && i < path.size()) {
      if (path[i] == '.') ++i;
      if (i < path.size() && path[i] == '[') {
        size_t end = path.find(']', i);
        if (end == std::string::npos || node->type != YamlNode::Type::kSeq) break;
        size_t idx = std::strtoull(path.c_str() + i + 1, nullptr, 10);
        node = idx < node->seq.size() ? &node->seq[idx] : nullptr;
        i = end + 1;
      } else {
        size_t end = path.find_first_of(".[", i);
        if (end == std::string::npos) end = path.size();
        if (node->type != YamlNode::Type::kMap) break;
        node = node->Find(path.substr(i, end - i));
        i = end;
      }
      if (node) at = node;
    }
    return Error(*at, path, reason);
  }

 private:
  std::string source_;
};

}  // namespace

Result<Policy> ParsePolicy(std::string_view yaml, std::string_view source_name,
                           const ParseOptions& options) {
  Validator v(source_name);
  if (yaml.size() > kMaxDocumentBytes) {
    return v.Error(1, 1, "",
                   "the document is " + std::to_string(yaml.size()) +
                       " bytes, more than the limit of " + std::to_string(kMaxDocumentBytes));
  }
  auto tree = internal::ParseYaml(yaml);
  if (!tree.ok()) {
    return InvalidArgumentError(std::string(source_name) + ":" + tree.status().message());
  }
  return v.Run(*tree, yaml, options);
}

}  // namespace nhitrace::policy
