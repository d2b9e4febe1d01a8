#include "bench/workload.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>

namespace nhitrace::bench {
namespace {

// ---------------------------------------------------------------------------------------------
// Randomness: SplitMix64. Mix() is a bijection on 64-bit values, so ids derived from distinct
// counters through it never collide.

constexpr uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    s_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = s_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  // Uniform in [lo, hi]; lo if hi < lo.
  int64_t Range(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool Chance(double p) { return Uniform() < p; }
  double Exp(double mean) { return -mean * std::log(1.0 - Uniform()); }
  template <typename T, size_t N>
  const T& Pick(const T (&a)[N]) {
    return a[Below(N)];
  }

 private:
  uint64_t s_;
};

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;
// 2026-01-05T00:00:00Z
constexpr int64_t kSimStart = 1767571200LL * kSec;
constexpr int64_t kRequestSpan = 75 * kDay;
constexpr int64_t kSimEnd = kSimStart + 90 * kDay;

// ---------------------------------------------------------------------------------------------
// Vocabulary.

constexpr const char* kTeams[] = {"payments",   "checkout",      "ledger",      "identity",
                                  "search",     "data-platform", "ml-platform", "billing",
                                  "fraud",      "growth",        "infra",       "security",
                                  "mobile-api", "notifications", "reporting",   "inventory",
                                  "shipping",   "support-tools", "analytics",   "catalog"};
constexpr size_t kNumTeams = sizeof(kTeams) / sizeof(kTeams[0]);
constexpr const char* kServices[] = {"api",     "worker",     "deployer",  "etl",
                                     "sync",    "exporter",   "scheduler", "indexer",
                                     "gateway", "reconciler", "backup",    "ingest"};
constexpr const char* kFirst[] = {"maria", "john", "aisha", "wei",   "lukas",  "sofia",
                                  "ahmed", "yuki", "olga",  "pedro", "fatima", "james",
                                  "chen",  "anna", "omar",  "ines",  "david",  "priya",
                                  "tomas", "lea",  "kwame", "nina",  "raj",    "elena"};
constexpr const char* kLast[] = {"lopez",    "smith",  "khan",    "zhang",  "muller", "rossi",
                                 "hassan",   "tanaka", "ivanova", "silva",  "ali",    "brown",
                                 "li",       "novak",  "farouk",  "garcia", "cohen",  "patel",
                                 "kowalski", "martin", "mensah",  "berg",   "sharma", "popescu"};
constexpr const char* kRegions[] = {"us-east-1", "eu-west-1", "eu-central-1", "us-west-2"};
constexpr const char* kClusters[] = {"prod-eu-1", "prod-us-1", "staging-eu-1"};
constexpr const char* kAgents[] = {"release-assistant",  "triage-bot",      "code-reviewer",
                                   "dependency-updater", "support-copilot", "data-analyst"};
constexpr const char* kAwsAgents[] = {
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.debian.12",
    "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1.0 lang/python#3.11.8",
    "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 api/s3#1.51.1",
    "aws-sdk-java/2.25.6 Linux/6.1.0 Java/21.0.2 vendor/Eclipse_Adoptium"};
constexpr const char* kGcpAgents[] = {"google-cloud-sdk gcloud/467.0.0 command/gcloud.storage.cp",
                                      "gcloud-python/2.14.0 gl-python/3.11.8 grpc/1.62.0",
                                      "google-api-go-client/0.5 terraform-provider-google/5.19.0"};
constexpr const char* kVaultAgents[] = {"vault-agent/1.15.6 (+https://www.vaultproject.io)",
                                        "Go-http-client/1.1", "hvac/2.1.0 python/3.11.8"};
constexpr const char* kModels[] = {"claude-sonnet-4", "gpt-4.1-2025-04-14", "gemini-2.5-pro",
                                   "llama-3.3-70b-instruct"};
constexpr const char* kDenyReasons[] = {
    "Requested scope exceeds least privilege: wildcard permissions on production data",
    "No business justification attached; resubmit with the linked change ticket",
    "Sponsor is not a member of the owning team (segregation of duties)",
    "Duplicate of an active grant for the same workload; reuse the existing identity"};
constexpr const char* kRevokeReasons[] = {
    "Workload decommissioned; credential no longer needed",
    "Owner requested revocation after migration to workload identity federation",
    "Quarterly access review: unused for 30 days",
    "Incident response: credential exposed in a CI log"};
constexpr const char* kPurposes[] = {"to publish build artifacts from CI",
                                     "to export nightly reports to the data lake",
                                     "to read configuration at startup",
                                     "to rotate database credentials",
                                     "for the scheduled reconciliation job",
                                     "to back up tables to cold storage",
                                     "so the agent can open pull requests for dependency updates",
                                     "to serve customer lookups from the support console"};

// ---------------------------------------------------------------------------------------------
// Sources: name, timestamp precision (fraction digits) and delivery delay.

enum Src : uint8_t {
  kJira,
  kServiceNow,
  kCloudTrail,
  kK8sAudit,
  kVaultAudit,
  kGcpAudit,
  kAgentGateway,
  kAgentBroker,
  kLifecycle,
  kScanner,
};
struct SourceInfo {
  const char* name;
  int digits;         // fraction digits of its timestamps
  int64_t max_delay;  // delivery delay is uniform in [0, max_delay]
};
constexpr SourceInfo kSources[] = {
    {"jira", 3, 2 * kSec},          {"servicenow", 0, 10 * kSec},  {"aws-cloudtrail", 0, 30 * kSec},
    {"k8s-audit", 6, 3 * kSec},     {"vault-audit", 9, 1 * kSec},  {"gcp-audit", 9, 10 * kSec},
    {"agent-gateway", 3, 1 * kSec}, {"agent-broker", 3, 1 * kSec}, {"nhi-lifecycle", 3, 5 * kSec},
    {"nhi-scanner", 0, 1 * kSec}};

// ---------------------------------------------------------------------------------------------
// The plan.

enum class Subj : uint8_t { kApiKey, kServiceAccount, kToken, kAiAgent, kWorkload };
enum class Fate : uint8_t { kNormal, kDenied, kProvisionFailed, kProvisionRetried };
enum class End : uint8_t { kActive, kRevoked, kExpired };
// What an AI agent's credential is.
enum class Profile : uint8_t { kS3, kDynamo, kSecrets, kK8s, kVault, kGcs, kBigQuery, kGithub };

enum class Ev : uint8_t {
  kRequest,
  kApproval,
  kDenial,
  kProvisionFailed,
  kProvision,
  kAction,
  kActionOutsideScope,
  kActionAfterRevocation,
  kActionAfterExpiry,
  kRotation,
  kRevocation,
  kExpiry,
  kReconciliation,
};

struct Identity {
  Subj subj = Subj::kApiKey;
  Profile profile = Profile::kS3;
  Fate fate = Fate::kNormal;
  End end = End::kActive;
  int8_t brk = -1;  // BreakKind or -1
  bool servicenow = false;
  bool rotated = false;
  uint8_t team = 0, svc = 0, region = 0, cluster = 0, agent = 0;
  uint16_t requester = 0, approver = 0, sponsor = 0;
  int tz_min = 0;
  uint32_t ticket = 0;
  std::string key;                       // identity key
  std::string alias;                     // one alias, or empty
  std::string name;                      // subject name
  std::string corr;                      // correlation key
  std::string actor;                     // actor.id of its actions
  std::vector<std::string> resources;    // approved resource patterns
  std::vector<std::string> permissions;  // approved permissions
  std::string account;                   // AWS account / GCP project
  int64_t ttl_s = 0;
  int64_t t_req = 0, t_dec = 0, t_prov_fail = 0, t_prov = 0, not_after = 0;
  int64_t t_rot = 0, t_end = 0, t_recon = 0, act_lo = 0, act_hi = 0;
  uint32_t actions = 0;
};

struct Planned {
  int64_t time_ns;
  int64_t arrival_ns;
  uint32_t ident;
  uint32_t ordinal;  // per identity and kind
  Ev ev;
};

Src SourceOf(const Identity& id, Ev ev) {
  switch (ev) {
    case Ev::kRequest:
    case Ev::kApproval:
    case Ev::kDenial:
      return id.servicenow ? kServiceNow : kJira;
    case Ev::kReconciliation:
      return kScanner;
    case Ev::kExpiry:
      return id.subj == Subj::kToken ? kVaultAudit : kLifecycle;
    case Ev::kAction:
    case Ev::kActionOutsideScope:
    case Ev::kActionAfterRevocation:
    case Ev::kActionAfterExpiry:
      if (id.subj == Subj::kAiAgent) return kAgentGateway;
      break;
    default:
      if (id.subj == Subj::kAiAgent) return kAgentBroker;
      break;
  }
  switch (id.subj) {
    case Subj::kApiKey:
      return kCloudTrail;
    case Subj::kServiceAccount:
      return kK8sAudit;
    case Subj::kToken:
      return kVaultAudit;
    case Subj::kWorkload:
      return kGcpAudit;
    case Subj::kAiAgent:
      return kAgentBroker;
  }
  return kScanner;
}

int64_t Truncate(int64_t ns, int digits) {
  int64_t unit = 1;
  for (int i = digits; i < 9; ++i) unit *= 10;
  return ns - ns % unit;  // times here are all positive
}

// ---------------------------------------------------------------------------------------------
// Formatting.

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out->append(p, static_cast<size_t>(buf + sizeof buf - p));
}
void AppendInt(int64_t v, std::string* out) {
  if (v < 0) {
    out->push_back('-');
    AppendUint(static_cast<uint64_t>(-(v + 1)) + 1, out);
  } else {
    AppendUint(static_cast<uint64_t>(v), out);
  }
}
void AppendDigits(uint64_t v, int width, std::string* out) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out->append(buf, static_cast<size_t>(width));
}
constexpr char kHex[] = "0123456789abcdef";
void AppendHex(uint64_t v, int digits, std::string* out) {
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 15]);
}
void AppendAlphabet(uint64_t v, int chars, std::string_view alphabet, std::string* out) {
  for (int i = 0; i < chars; ++i) {
    out->push_back(alphabet[v % alphabet.size()]);
    v /= alphabet.size();
  }
}
// `chars` random characters of `alphabet`.
void AppendRandom(Rng& r, int chars, std::string_view alphabet, std::string* out) {
  for (int i = 0; i < chars; ++i) out->push_back(alphabet[r.Below(alphabet.size())]);
}
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kBase36 = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// A version 4 UUID whose bits are `unique` (all 64 kept, so distinct values give distinct
// UUIDs) and `random`.
void AppendUuid(uint64_t unique, uint64_t random, std::string* out) {
  uint64_t hi = (unique & ~0xf000ULL) | 0x4000ULL;                          // version 4
  uint64_t lo = (random & 0x3ffffffffffffff0ULL) | 0x8000000000000000ULL |  // variant 10
                ((unique >> 12) & 0xf);
  AppendHex(hi >> 32, 8, out);
  out->push_back('-');
  AppendHex((hi >> 16) & 0xffff, 4, out);
  out->push_back('-');
  AppendHex(hi & 0xffff, 4, out);
  out->push_back('-');
  AppendHex(lo >> 48, 4, out);
  out->push_back('-');
  AppendHex(lo & 0xffffffffffffULL, 12, out);
}

// H. Hinnant's civil_from_days.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2 ? 1 : 0);
}

// RFC 3339 with `digits` fraction digits; with force_offset, "+00:00" instead of "Z".
void AppendTime(int64_t ns, int digits, int tz_min, bool force_offset, std::string* out) {
  int64_t local = ns + static_cast<int64_t>(tz_min) * kMin;
  int64_t days = local / kDay;
  int64_t rem = local % kDay;
  if (rem < 0) {
    rem += kDay;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  AppendDigits(static_cast<uint64_t>(y), 4, out);
  out->push_back('-');
  AppendDigits(m, 2, out);
  out->push_back('-');
  AppendDigits(d, 2, out);
  out->push_back('T');
  int64_t secs = rem / kSec;
  AppendDigits(static_cast<uint64_t>(secs / 3600), 2, out);
  out->push_back(':');
  AppendDigits(static_cast<uint64_t>(secs / 60 % 60), 2, out);
  out->push_back(':');
  AppendDigits(static_cast<uint64_t>(secs % 60), 2, out);
  if (digits > 0) {
    out->push_back('.');
    uint64_t frac = static_cast<uint64_t>(rem % kSec);
    for (int i = digits; i < 9; ++i) frac /= 10;
    AppendDigits(frac, digits, out);
  }
  if (tz_min == 0 && !force_offset) {
    out->push_back('Z');
  } else {
    int a = tz_min < 0 ? -tz_min : tz_min;
    out->push_back(tz_min < 0 ? '-' : '+');
    AppendDigits(static_cast<uint64_t>(a / 60), 2, out);
    out->push_back(':');
    AppendDigits(static_cast<uint64_t>(a % 60), 2, out);
  }
}

std::string TimeString(int64_t ns, int digits) {
  std::string s;
  AppendTime(ns, digits, 0, false, &s);
  return s;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// A minimal streaming JSON object writer for one line.
class Obj {
 public:
  explicit Obj(std::string* out) : out_(out) {}
  Obj& Open(std::string_view key) {
    Key(key);
    out_->push_back('{');
    first_[++depth_] = true;
    return *this;
  }
  Obj& OpenArray(std::string_view key) {
    Key(key);
    out_->push_back('[');
    first_[++depth_] = true;
    return *this;
  }
  Obj& Close() {
    out_->push_back('}');
    --depth_;
    return *this;
  }
  Obj& CloseArray() {
    out_->push_back(']');
    --depth_;
    return *this;
  }
  Obj& Str(std::string_view key, std::string_view v) {
    Key(key);
    AppendJsonString(v, out_);
    return *this;
  }
  Obj& Item(std::string_view v) {
    Comma();
    AppendJsonString(v, out_);
    return *this;
  }
  Obj& Int(std::string_view key, int64_t v) {
    Key(key);
    AppendInt(v, out_);
    return *this;
  }
  Obj& Bool(std::string_view key, bool v) {
    Key(key);
    out_->append(v ? "true" : "false");
    return *this;
  }
  Obj& Time(std::string_view key, int64_t ns, int digits, int tz_min = 0, bool force = false) {
    Key(key);
    out_->push_back('"');
    AppendTime(ns, digits, tz_min, force, out_);
    out_->push_back('"');
    return *this;
  }
  Obj& StrList(std::string_view key, const std::vector<std::string>& v) {
    OpenArray(key);
    for (const auto& s : v) Item(s);
    return CloseArray();
  }
  Obj& StrList1(std::string_view key, std::string_view v) {
    OpenArray(key);
    Item(v);
    return CloseArray();
  }
  // Starts a member and returns the buffer for a value the caller writes.
  std::string* Raw(std::string_view key) {
    Key(key);
    return out_;
  }

 private:
  void Comma() {
    if (!first_[depth_]) out_->push_back(',');
    first_[depth_] = false;
  }
  void Key(std::string_view key) {
    Comma();
    if (!key.empty()) {
      AppendJsonString(key, out_);
      out_->push_back(':');
    }
  }
  std::string* out_;
  bool first_[16] = {true};
  int depth_ = 0;
};

std::string Human(uint16_t i) {
  std::string s = kFirst[i % std::size(kFirst)];
  s += '.';
  s += kLast[(i / std::size(kFirst)) % std::size(kLast)];
  s += "@example.com";
  return s;
}

constexpr size_t kHumans = std::size(kFirst) * std::size(kLast);
// People of a team: a contiguous pool of 8 (distinct for distinct offsets < 8).
uint16_t TeamPerson(uint8_t team, uint64_t k) {
  return static_cast<uint16_t>((team * 37 + (k % 8) * 5) % kHumans);
}

std::string_view SubjKind(Subj s) {
  switch (s) {
    case Subj::kApiKey:
      return "api_key";
    case Subj::kServiceAccount:
      return "service_account";
    case Subj::kToken:
      return "token";
    case Subj::kAiAgent:
      return "ai_agent";
    case Subj::kWorkload:
      return "workload";
  }
  return "other";
}
std::string_view SubjSystem(const Identity& id) {
  switch (id.profile) {
    case Profile::kS3:
    case Profile::kDynamo:
    case Profile::kSecrets:
      return "aws";
    case Profile::kK8s:
      return "kubernetes";
    case Profile::kVault:
      return "vault";
    case Profile::kGcs:
    case Profile::kBigQuery:
      return "gcp";
    case Profile::kGithub:
      return "github";
  }
  return "other";
}

}  // namespace

std::string_view BreakKindName(BreakKind k) {
  switch (k) {
    case BreakKind::kApprovalNeverProvisioned:
      return "approval_never_provisioned";
    case BreakKind::kProvisionWithoutRequest:
      return "provision_without_request";
    case BreakKind::kActionAfterRevocation:
      return "action_after_revocation";
    case BreakKind::kActionOutsideScope:
      return "action_outside_scope";
    case BreakKind::kActionAfterExpiry:
      return "action_after_expiry";
  }
  return "?";
}

const std::array<std::string_view, 12>& KindNames() {
  static const std::array<std::string_view, 12> k = {
      "request",    "approval", "denial",         "provision", "action",  "rotation",
      "revocation", "expiry",   "reconciliation", "signal",    "support", "identity"};
  return k;
}
const std::array<std::string_view, 5>& SubjectNames() {
  static const std::array<std::string_view, 5> k = {"api_key", "service_account", "token",
                                                    "ai_agent", "workload"};
  return k;
}

struct Workload::Impl {
  WorkloadOptions opt;
  std::vector<Identity> ids;
  std::vector<Planned> plan;

  void MakeIdentity(uint32_t idx, Rng& r, Identity* id);
  void Scope(Identity* id);
  // Renders the parts.
  void Render(uint64_t i, RenderedEvent* out) const;
  void ActionResource(const Identity& id, Rng& r, bool outside, std::string* res, std::string* perm,
                      std::string* verb) const;
};

// The approved scope of an identity, from its profile.
void Workload::Impl::Scope(Identity* id) {
  std::string team = kTeams[id->team];
  std::string svc = kServices[id->svc];
  std::string region = kRegions[id->region];
  id->resources.clear();
  id->permissions.clear();
  switch (id->profile) {
    case Profile::kS3:
      id->resources.push_back("arn:aws:s3:::acme-" + team + "-artifacts/*");
      if (id->svc % 2 == 0) id->resources.push_back("arn:aws:s3:::acme-" + team + "-exports/*");
      id->permissions = {"s3:GetObject", "s3:PutObject"};
      if (id->svc % 3 == 0) id->permissions.push_back("s3:GetObjectVersion");
      break;
    case Profile::kDynamo:
      id->resources.push_back("arn:aws:dynamodb:" + region + ":" + id->account + ":table/" + team +
                              "-" + svc + "-state");
      id->permissions = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"};
      break;
    case Profile::kSecrets:
      id->resources.push_back("arn:aws:secretsmanager:" + region + ":" + id->account +
                              ":secret:" + team + "/" + svc + "/*");
      id->permissions = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"};
      break;
    case Profile::kK8s: {
      std::string base = std::string("k8s:") + kClusters[id->cluster] + "/" + team + "-prod/";
      id->resources.push_back(base + "configmaps/*");
      id->resources.push_back(base + "secrets/" + team + "-" + svc + "-db");
      id->permissions = {"get", "list", "watch"};
      break;
    }
    case Profile::kVault:
      id->resources.push_back("vault:secret/data/" + team + "/" + svc + "/*");
      id->resources.push_back("vault:database/creds/" + team + "-readonly");
      id->permissions = {"read", "list"};
      break;
    case Profile::kGcs:
      id->resources.push_back("//storage.googleapis.com/projects/_/buckets/" + id->account + "-" +
                              svc + "/objects/*");
      id->permissions = {"storage.objects.get", "storage.objects.list", "storage.objects.create"};
      break;
    case Profile::kBigQuery: {
      std::string ds = team;
      std::replace(ds.begin(), ds.end(), '-', '_');
      id->resources.push_back("//bigquery.googleapis.com/projects/" + id->account + "/datasets/" +
                              ds + "_analytics/*");
      id->permissions = {"bigquery.tables.getData", "bigquery.jobs.create"};
      break;
    }
    case Profile::kGithub:
      id->resources.push_back("github:repo:acme-corp/" + team + "-" + svc);
      id->resources.push_back("github:repo:acme-corp/" + team + "-infra");
      id->permissions = {"contents:read", "pull_requests:write", "issues:write"};
      break;
  }
}

void Workload::Impl::MakeIdentity(uint32_t idx, Rng& r, Identity* id) {
  double u = r.Uniform();
  id->subj = u < 0.30   ? Subj::kApiKey
             : u < 0.55 ? Subj::kServiceAccount
             : u < 0.75 ? Subj::kToken
             : u < 0.90 ? Subj::kAiAgent
                        : Subj::kWorkload;
  id->team = static_cast<uint8_t>(r.Below(kNumTeams));
  id->svc = static_cast<uint8_t>(r.Below(std::size(kServices)));
  id->region = static_cast<uint8_t>(r.Below(std::size(kRegions)));
  id->cluster = static_cast<uint8_t>(r.Below(std::size(kClusters)));
  id->agent = static_cast<uint8_t>(r.Below(std::size(kAgents)));
  uint64_t k = r.Below(8);
  id->requester = TeamPerson(id->team, k);
  id->approver = TeamPerson(static_cast<uint8_t>((id->team + 11) % kNumTeams), r.Below(8));
  id->sponsor = r.Chance(0.7) ? id->requester : TeamPerson(id->team, k + 1 + r.Below(7));
  id->servicenow = id->subj == Subj::kServiceAccount || id->subj == Subj::kWorkload
                       ? r.Chance(0.7)
                       : r.Chance(0.15);
  static constexpr int kOffsets[] = {60, 60, 0, -300, -300, 330, 120, -480};
  id->tz_min = kOffsets[id->team % std::size(kOffsets)];

  std::string team = kTeams[id->team];
  std::string svc = kServices[id->svc];
  uint64_t uid = Mix(opt.seed * 0x100000001b3ULL ^ idx);  // unique per identity
  // A short unique suffix that does not look sequential: idx -> idx * a + b (mod 36^5) is a
  // bijection because a is prime to 36.
  std::string b36;
  AppendAlphabet((static_cast<uint64_t>(idx) * 48271 + 12345) % 60466176, 5, kBase36, &b36);
  id->account.clear();
  AppendDigits(210000000000ULL + id->team * 7919ULL * 1000 + (uid % 997), 12, &id->account);
  id->name = team + "-" + svc + "-" + b36;
  switch (id->subj) {
    case Subj::kApiKey: {
      id->profile = r.Chance(0.6)   ? Profile::kS3
                    : r.Chance(0.5) ? Profile::kDynamo
                                    : Profile::kSecrets;
      id->key = "aws:accesskey:AKIA";
      AppendAlphabet(uid, 13, kBase32, &id->key);
      AppendRandom(r, 3, kBase32, &id->key);
      id->alias = "aws:iam-user:arn:aws:iam::" + id->account + ":user/" + id->name;
      id->actor = "arn:aws:iam::" + id->account + ":user/" + id->name;
      break;
    }
    case Subj::kServiceAccount: {
      id->profile = Profile::kK8s;
      std::string ns = team + "-prod";
      id->key = "k8s:sa:" + ns + "/" + id->name;
      id->alias = "k8s:user:system:serviceaccount:" + ns + ":" + id->name;
      id->actor = "system:serviceaccount:" + ns + ":" + id->name;
      break;
    }
    case Subj::kToken: {
      id->profile = Profile::kVault;
      id->key = "vault:token:accessor:";
      AppendAlphabet(uid, 11, kBase62, &id->key);
      AppendRandom(r, 13, kBase62, &id->key);
      id->alias = "vault:approle:" + team + "-" + svc + "-" + b36;
      id->actor = "vault:entity:";
      AppendUuid(r.Next(), r.Next(), &id->actor);
      break;
    }
    case Subj::kAiAgent: {
      std::string inst = "inst-";
      AppendHex(r.Next(), 4, &inst);
      id->actor = std::string("agent:") + kAgents[id->agent] + "/" + inst;
      if (r.Chance(0.5)) {
        id->profile = Profile::kGithub;
        id->key = "github:token:ghs_";
        AppendAlphabet(uid, 11, kBase62, &id->key);
        AppendRandom(r, 25, kBase62, &id->key);
        id->alias = "github:app-installation:acme-corp/" + std::string(kAgents[id->agent]) + "/" +
                    std::to_string(40000000 + idx);
      } else {
        id->profile = Profile::kS3;
        id->key = "aws:accesskey:ASIA";
        AppendAlphabet(uid, 13, kBase32, &id->key);
        AppendRandom(r, 3, kBase32, &id->key);
        id->alias = "aws:assumed-role:arn:aws:sts::" + id->account + ":assumed-role/agent-" +
                    kAgents[id->agent] + "/" + inst;
      }
      id->name = std::string(kAgents[id->agent]) + "-" + b36;
      break;
    }
    case Subj::kWorkload: {
      id->profile = r.Chance(0.6) ? Profile::kGcs : Profile::kBigQuery;
      id->account = "acme-" + team + "-prod";
      id->key = "gcp:sa:" + id->name + "@" + id->account + ".iam.gserviceaccount.com";
      id->alias = "gcp:sa-key:";
      AppendHex(uid, 16, &id->alias);
      AppendHex(r.Next(), 16, &id->alias);
      AppendHex(r.Next(), 8, &id->alias);
      id->actor = id->name + "@" + id->account + ".iam.gserviceaccount.com";
      break;
    }
  }
  Scope(id);

  // Validity.
  switch (id->subj) {
    case Subj::kApiKey:
      id->ttl_s = 90 * 86400;
      break;
    case Subj::kServiceAccount:
      id->ttl_s = 180 * 86400;
      break;
    case Subj::kWorkload:
      id->ttl_s = 90 * 86400;
      break;
    case Subj::kToken: {
      static constexpr int64_t kTtls[] = {3600, 14400, 28800, 86400, 259200, 604800};
      id->ttl_s = r.Pick(kTtls);
      break;
    }
    case Subj::kAiAgent: {
      static constexpr int64_t kTtls[] = {28800, 86400, 604800, 2592000};
      id->ttl_s = r.Pick(kTtls);
      break;
    }
  }
}

void Workload::Impl::ActionResource(const Identity& id, Rng& r, bool outside, std::string* res,
                                    std::string* perm, std::string* op) const {
  // An outside use either touches another team's resource with a granted permission or a
  // granted resource with a permission that was never granted.
  bool foreign = outside && r.Chance(0.5);
  bool bad_perm = outside && !foreign;
  std::string team = kTeams[foreign ? (id.team + 1 + r.Below(kNumTeams - 1)) % kNumTeams : id.team];
  std::string svc = kServices[id.svc];
  const std::string& p = id.permissions[r.Below(id.permissions.size())];
  *perm = p;
  switch (id.profile) {
    case Profile::kS3: {
      std::string bucket =
          "acme-" + team + (id.resources.size() > 1 && r.Chance(0.3) ? "-exports" : "-artifacts");
      if (foreign) bucket = "acme-" + team + "-exports";
      char obj[64];
      if (bucket.ends_with("-exports")) {
        std::snprintf(obj, sizeof obj, "exports/2026/%02d/%02d/part-%05d.parquet",
                      static_cast<int>(1 + r.Below(3)), static_cast<int>(1 + r.Below(28)),
                      static_cast<int>(r.Below(2000)));
      } else {
        std::snprintf(obj, sizeof obj, "builds/%d/%s.tar.gz",
                      static_cast<int>(1000 + r.Below(9000)), kServices[id.svc]);
      }
      *res = "arn:aws:s3:::" + bucket + "/" + obj;
      if (bad_perm) *perm = r.Chance(0.5) ? "s3:DeleteObject" : "s3:PutBucketPolicy";
      *op = perm->substr(3);
      break;
    }
    case Profile::kDynamo:
      *res = "arn:aws:dynamodb:" + std::string(kRegions[id.region]) + ":" + id.account + ":table/" +
             team + "-" + svc + "-state";
      if (bad_perm) *perm = r.Chance(0.5) ? "dynamodb:DeleteTable" : "dynamodb:Scan";
      *op = perm->substr(9);
      break;
    case Profile::kSecrets: {
      *res = "arn:aws:secretsmanager:" + std::string(kRegions[id.region]) + ":" + id.account +
             ":secret:" + team + "/" + svc + "/" + (r.Chance(0.5) ? "db-password" : "api-token") +
             "-";
      AppendRandom(r, 6, kBase62, res);
      if (bad_perm)
        *perm = r.Chance(0.5) ? "secretsmanager:PutSecretValue" : "secretsmanager:DeleteSecret";
      *op = perm->substr(15);
      break;
    }
    case Profile::kK8s: {
      std::string base = std::string("k8s:") + kClusters[id.cluster] + "/" + team + "-prod/";
      if (r.Chance(0.7)) {
        *res = base + "configmaps/" + team + "-" + svc + (r.Chance(0.5) ? "-config" : "-features");
      } else {
        *res = base + "secrets/" + team + "-" + svc + "-db";
      }
      if (bad_perm) *perm = r.Chance(0.5) ? "delete" : "patch";
      *op = *perm;
      break;
    }
    case Profile::kVault:
      if (r.Chance(0.7)) {
        *res = "vault:secret/data/" + team + "/" + svc + "/" +
               (r.Chance(0.5) ? "db-credentials" : "signing-key");
      } else {
        *res = "vault:database/creds/" + team + "-readonly";
      }
      if (bad_perm) *perm = r.Chance(0.5) ? "update" : "delete";
      *op = *perm;
      break;
    case Profile::kGcs: {
      std::string bucket = (foreign ? "acme-" + team + "-prod" : id.account) + "-" + svc;
      char obj[64];
      std::snprintf(obj, sizeof obj, "daily/2026-%02d-%02d/batch-%04d.avro",
                    static_cast<int>(1 + r.Below(3)), static_cast<int>(1 + r.Below(28)),
                    static_cast<int>(r.Below(5000)));
      *res = "//storage.googleapis.com/projects/_/buckets/" + bucket + "/objects/" + obj;
      if (bad_perm)
        *perm = r.Chance(0.5) ? "storage.objects.delete" : "storage.buckets.setIamPolicy";
      *op = *perm;
      break;
    }
    case Profile::kBigQuery: {
      std::string project = foreign ? "acme-" + team + "-prod" : id.account;
      std::string ds = team;
      std::replace(ds.begin(), ds.end(), '-', '_');
      static constexpr const char* kTables[] = {"events_daily", "orders", "sessions", "invoices"};
      *res = "//bigquery.googleapis.com/projects/" + project + "/datasets/" + ds +
             "_analytics/tables/" + r.Pick(kTables);
      if (bad_perm) *perm = r.Chance(0.5) ? "bigquery.tables.delete" : "bigquery.datasets.update";
      *op = *perm;
      break;
    }
    case Profile::kGithub: {
      *res = "github:repo:acme-corp/" + team + "-" +
             (foreign         ? std::string("secrets")
              : r.Chance(0.7) ? svc
                              : "infra");
      if (bad_perm) *perm = r.Chance(0.5) ? "administration:write" : "secrets:write";
      *op = *perm;
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering.

void Workload::Impl::Render(uint64_t i, RenderedEvent* out) const {
  const Planned& p = plan[i];
  const Identity& id = ids[p.ident];
  Rng r(Mix(opt.seed ^ Mix(i + 0x5151)));
  Src src = SourceOf(id, p.ev);
  const SourceInfo& si = kSources[src];
  const bool jira = src == kJira;
  const bool agent = id.subj == Subj::kAiAgent;
  std::string& s = out->line;
  s.clear();
  out->break_kind = -1;
  out->time_ns = p.time_ns;
  out->source_system = si.name;
  out->chain = p.ident;
  out->correlation_key.clear();
  out->identity_key.clear();
  out->actor_id.clear();
  std::string& eid = out->source_event_id;
  eid.clear();
  // A unique event id for sources that use UUIDs: the top half is a bijection of the position.
  auto uuid = [&](std::string* dst) { AppendUuid(Mix(opt.seed * 31 + 7) ^ Mix(i), r.Next(), dst); };

  std::string_view kind;
  switch (p.ev) {
    case Ev::kRequest:
      kind = "request";
      break;
    case Ev::kApproval:
      kind = "approval";
      break;
    case Ev::kDenial:
      kind = "denial";
      break;
    case Ev::kProvisionFailed:
    case Ev::kProvision:
      kind = "provision";
      break;
    case Ev::kAction:
    case Ev::kActionOutsideScope:
    case Ev::kActionAfterRevocation:
    case Ev::kActionAfterExpiry:
      kind = "action";
      break;
    case Ev::kRotation:
      kind = "rotation";
      break;
    case Ev::kRevocation:
      kind = "revocation";
      break;
    case Ev::kExpiry:
      kind = "expiry";
      break;
    case Ev::kReconciliation:
      kind = "reconciliation";
      break;
  }
  out->kind = kind;

  // Event ids.
  switch (p.ev) {
    case Ev::kRequest:
      eid = id.corr + (id.servicenow ? ":requested" : ":created");
      break;
    case Ev::kApproval:
      eid = id.corr + ":approved";
      break;
    case Ev::kDenial:
      eid = id.corr + (id.servicenow ? ":rejected" : ":denied");
      break;
    case Ev::kAction:
    case Ev::kActionOutsideScope:
    case Ev::kActionAfterRevocation:
    case Ev::kActionAfterExpiry:
      if (agent) {
        eid = "run-";
        AppendHex(Mix((static_cast<uint64_t>(p.ident) << 32 | (p.ordinal / 5)) ^ opt.seed), 16,
                  &eid);
        eid += "/tool-";
        AppendUint(p.ordinal % 5, &eid);
        break;
      }
      [[fallthrough]];
    default:
      if (src == kGcpAudit) {
        AppendAlphabet(Mix(opt.seed * 31 + 7) ^ Mix(i), 13, kBase36, &eid);
        AppendRandom(r, 4, kBase36, &eid);
      } else if (src == kScanner) {
        eid = "scan-";
        AppendTime(p.time_ns - p.time_ns % kDay, 0, 0, false, &eid);
        eid.resize(eid.size() - 10);  // the date only
        eid += "-";
        uuid(&eid);
      } else if (src == kLifecycle || src == kAgentBroker) {
        eid = src == kLifecycle ? "lc-" : "grant-";
        uuid(&eid);
      } else {
        uuid(&eid);
      }
      break;
  }

  Obj o(&s);
  s.push_back('{');
  o.Int("v", 1).Str("kind", kind);
  o.Open("source").Str("system", si.name).Str("event_id", eid).Close();
  o.Time("time", p.time_ns, si.digits, jira ? id.tz_min : 0, jira);

  auto corr = [&](std::string_view c) {
    o.Str("correlation_key", c);
    out->correlation_key = c;
  };
  auto identity = [&]() {
    o.Str("identity", id.key);
    out->identity_key = id.key;
  };
  auto actor = [&](std::string_view a, std::string_view type) {
    o.Open("actor").Str("id", a).Str("type", type).Close();
    out->actor_id = a;
  };
  auto subject = [&](bool with_name) {
    o.Open("subject").Str("kind", SubjKind(id.subj));
    if (with_name) o.Str("name", id.name);
    o.Str("owner", std::string("team-") + kTeams[id.team]).Str("sponsor", Human(id.sponsor));
    o.Str("system", SubjSystem(id)).Close();
  };
  auto scope = [&]() {
    o.Open("scope").StrList("resources", id.resources).StrList("permissions", id.permissions);
    o.Close();
  };
  auto policy = [&]() {
    o.Open("policy").Str("id", agent ? "ai-agent-delegation" : "nhi-access-standard");
    o.Str("version", agent ? "3" : "7");
    std::string h = "sha256:";
    uint64_t a = Mix(agent ? 3 : 7);
    for (int k = 0; k < 4; ++k) AppendHex(Mix(a + static_cast<uint64_t>(k)), 16, &h);
    o.Str("hash", h).Close();
  };
  std::string provisioner;
  switch (id.subj) {
    case Subj::kApiKey:
      provisioner = "terraform-runner";
      break;
    case Subj::kServiceAccount:
      provisioner = "argocd-application-controller";
      break;
    case Subj::kToken:
      provisioner = "vault-approle-broker";
      break;
    case Subj::kAiAgent:
      provisioner = "agent-credential-broker";
      break;
    case Subj::kWorkload:
      provisioner = "terraform-runner";
      break;
  }

  switch (p.ev) {
    case Ev::kRequest: {
      corr(id.corr);
      actor(Human(id.requester), "human");
      subject(true);
      scope();
      o.Open("window").Int("ttl_seconds", id.ttl_s).Close();
      std::string why = id.name + " (" + std::string(SubjKind(id.subj)) + ") needs " +
                        id.permissions[0] + " on " + id.resources[0] + " " +
                        kPurposes[(id.svc + id.team) % std::size(kPurposes)];
      o.Str("rationale", why);
      o.Open("raw");
      if (id.servicenow) {
        o.Str("number", id.corr).Str("cat_item", "Non-human identity access");
        o.Str("requested_for", Human(id.requester)).Str("state", "1");
        o.Str("assignment_group", "IAM Operations");
      } else {
        o.Str("key", id.corr).Open("fields");
        o.Str("summary", "NHI access: " + id.name).Str("reporter", Human(id.requester));
        o.Str("priority", r.Chance(0.2) ? "High" : "Medium");
        o.OpenArray("labels").Item("nhi").Item("access-request").CloseArray();
        o.Close();
      }
      o.Close();
      break;
    }
    case Ev::kApproval: {
      corr(id.corr);
      actor(Human(id.approver), "human");
      policy();
      o.Open("window").Time("not_before", id.t_dec, si.digits).Int("ttl_seconds", id.ttl_s).Close();
      o.Str("rationale", "Approved: scope matches the least-privilege baseline for " +
                             std::string(SubjKind(id.subj)) + "; owner team-" + kTeams[id.team] +
                             " confirmed");
      o.Open("raw");
      if (id.servicenow) {
        o.Str("number", id.corr).Str("approval", "approved").Str("approver", Human(id.approver));
      } else {
        o.Str("key", id.corr).Str("transition", "Approve").Str("to_status", "Approved");
      }
      o.Close();
      if (id.brk == static_cast<int>(BreakKind::kApprovalNeverProvisioned))
        out->break_kind = id.brk;
      break;
    }
    case Ev::kDenial: {
      corr(id.corr);
      actor(Human(id.approver), "human");
      policy();
      o.Str("rationale", kDenyReasons[r.Below(std::size(kDenyReasons))]);
      break;
    }
    case Ev::kProvisionFailed: {
      corr(id.corr);
      actor(provisioner, "nhi");
      subject(false);
      o.Open("outcome").Str("result", "failure");
      switch (src) {
        case kCloudTrail:
          o.Str("code", "LimitExceeded")
              .Str("message", "Cannot exceed quota for AccessKeysPerUser: 2");
          break;
        case kK8sAudit:
          o.Str("code", "403").Str("message", "serviceaccounts is forbidden: exceeded quota");
          break;
        case kVaultAudit:
          o.Str("code", "permission denied").Str("message", "1 error occurred: permission denied");
          break;
        case kGcpAudit:
          o.Str("code", "FAILED_PRECONDITION")
              .Str("message", "Key creation is not allowed on this service account.");
          break;
        default:
          o.Str("code", "upstream_timeout").Str("message", "credential issuer did not answer");
          break;
      }
      o.Close();
      break;
    }
    case Ev::kProvision: {
      if (id.brk == static_cast<int>(BreakKind::kProvisionWithoutRequest)) {
        out->break_kind = id.brk;
      }
      corr(id.corr);
      identity();
      if (!id.alias.empty()) o.StrList1("aliases", id.alias);
      actor(provisioner, "nhi");
      subject(true);
      scope();
      o.Open("window").Time("not_before", id.t_prov, si.digits);
      o.Time("not_after", id.not_after, si.digits);
      o.Close();
      o.Open("outcome").Str("result", "success").Close();
      o.Open("raw");
      switch (src) {
        case kCloudTrail:
          o.Str("eventName", "CreateAccessKey").Str("eventSource", "iam.amazonaws.com");
          o.Str("awsRegion", "us-east-1").Open("responseElements").Open("accessKey");
          o.Str("accessKeyId", std::string_view(id.key).substr(14)).Str("status", "Active");
          o.Str("userName", id.name).Close().Close();
          break;
        case kK8sAudit:
          o.Str("verb", "create").Open("objectRef").Str("resource", "serviceaccounts");
          o.Str("namespace", std::string(kTeams[id.team]) + "-prod").Str("name", id.name);
          o.Close().Open("responseStatus").Int("code", 201).Close();
          break;
        case kVaultAudit:
          o.Str("type", "response").Open("request").Str("path", "auth/approle/login");
          o.Str("operation", "update").Close().Open("auth");
          o.Str("accessor", std::string_view(id.key).substr(21));
          o.Int("token_ttl", id.ttl_s).Close();
          break;
        case kGcpAudit:
          o.Str("methodName", "google.iam.admin.v1.CreateServiceAccountKey");
          o.Str("serviceName", "iam.googleapis.com");
          break;
        default:
          o.Str("grant_type", id.profile == Profile::kGithub ? "github_app_installation_token"
                                                             : "sts_assume_role");
          o.Str("agent", kAgents[id.agent]);
          break;
      }
      o.Close();
      break;
    }
    case Ev::kAction:
    case Ev::kActionOutsideScope:
    case Ev::kActionAfterRevocation:
    case Ev::kActionAfterExpiry: {
      if (p.ev != Ev::kAction) {
        out->break_kind = p.ev == Ev::kActionOutsideScope
                              ? static_cast<int>(BreakKind::kActionOutsideScope)
                          : p.ev == Ev::kActionAfterRevocation
                              ? static_cast<int>(BreakKind::kActionAfterRevocation)
                              : static_cast<int>(BreakKind::kActionAfterExpiry);
      }
      identity();
      std::string res, perm, op;
      ActionResource(id, r, p.ev == Ev::kActionOutsideScope, &res, &perm, &op);
      actor(id.actor, "nhi");
      if (agent) {
        std::string tool;
        if (id.profile == Profile::kGithub) {
          std::string repo = res.substr(res.rfind('/') + 1);
          if (perm == "contents:read") {
            tool = "github.get_file(" + repo + "/src/main.go)";
          } else if (perm == "pull_requests:write") {
            tool = "github.create_pull_request(" + repo + ")";
          } else {
            tool = "github.comment_issue(" + repo + "#" + std::to_string(100 + r.Below(900)) + ")";
          }
        } else {
          tool = "s3." + op + "(" + res.substr(res.find(":::") + 3) + ")";
        }
        o.Open("delegation").Str("agent_instance", id.actor).Str("tool_call", tool);
        o.Str("sponsor", Human(id.sponsor)).Str("credential", id.key).Close();
      }
      o.Open("scope").StrList1("resources", res).StrList1("permissions", perm).Close();
      bool ok = !r.Chance(0.02);
      o.Open("outcome").Str("result", ok ? "success" : "failure");
      if (!ok) o.Str("code", src == kK8sAudit ? "409" : "Throttling");
      o.Close();
      o.Open("attributes");
      uint64_t ipr = Mix(p.ident * 0x9e37ULL + r.Below(3));
      std::string ip;
      auto dotted = [&](int a, int b) {
        ip = std::to_string(a) + "." + std::to_string(b) + "." + std::to_string((ipr >> 8) & 255) +
             "." + std::to_string(1 + (ipr & 253));
      };
      switch (src) {
        case kCloudTrail:
          dotted(id.team % 2 ? 52 : 34, static_cast<int>(16 + (ipr >> 16) % 200));
          o.Str("source_ip", ip).Str("user_agent", kAwsAgents[(p.ident + ipr) % 4]);
          o.Str("aws_region", kRegions[id.region]);
          break;
        case kK8sAudit:
          dotted(10, static_cast<int>(id.cluster * 16 + (ipr >> 16) % 16));
          o.Str("source_ip", ip);
          o.Str("user_agent",
                std::string(kServices[id.svc]) + "/v1.4.2 (linux/amd64) kubernetes/$Format");
          if (!ok) o.Int("response_code", 409);
          break;
        case kVaultAudit:
          dotted(10, static_cast<int>(100 + (ipr >> 16) % 20));
          o.Str("remote_address", ip).Str("user_agent", kVaultAgents[ipr % 3]);
          o.Str("mount_type", res.starts_with("vault:database") ? "database" : "kv");
          break;
        case kGcpAudit:
          dotted(35, static_cast<int>(180 + (ipr >> 16) % 60));
          o.Str("caller_ip", ip).Str("user_agent", kGcpAgents[ipr % 3]);
          break;
        default:
          o.Str("model", kModels[id.agent % std::size(kModels)]);
          o.Int("tokens_in", static_cast<int64_t>(800 + r.Below(12000)));
          o.Int("tokens_out", static_cast<int64_t>(50 + r.Below(1500)));
          break;
      }
      o.Close();
      if (src == kCloudTrail && r.Chance(0.1)) {
        o.Open("raw")
            .Str("eventVersion", "1.09")
            .Str("eventSource", perm.substr(0, perm.find(':')) + ".amazonaws.com");
        o.Str("eventName", op)
            .Str("readOnly", perm.find("Get") != std::string::npos ? "true" : "false");
        o.Str("recipientAccountId", id.account).Close();
      }
      break;
    }
    case Ev::kRotation: {
      corr(id.corr);
      identity();
      actor(provisioner, "nhi");
      o.Open("outcome").Str("result", "success").Close();
      o.Open("attributes").Str("reason", "scheduled rotation");
      std::string nk;
      AppendHex(r.Next(), 16, &nk);
      o.Str("new_key_id", nk).Close();
      break;
    }
    case Ev::kRevocation: {
      corr(id.corr);
      identity();
      bool human = r.Chance(0.4);
      actor(human ? Human(id.requester) : provisioner, human ? "human" : "nhi");
      o.Str("rationale", kRevokeReasons[r.Below(std::size(kRevokeReasons))]);
      o.Open("outcome").Str("result", "success").Close();
      if (src == kCloudTrail) {
        o.Open("raw").Str("eventName", "DeleteAccessKey").Str("eventSource", "iam.amazonaws.com");
        o.Close();
      }
      break;
    }
    case Ev::kExpiry: {
      corr(id.corr);
      identity();
      actor(src == kVaultAudit ? "vault" : "nhi-lifecycle", "system");
      o.Open("window").Time("not_after", id.not_after,
                            kSources[SourceOf(id, Ev::kProvision)].digits);
      o.Close();
      o.Str("rationale", "Credential reached the end of its approved validity");
      break;
    }
    case Ev::kReconciliation: {
      corr(id.corr);
      identity();
      actor("nhi-scanner", "system");
      std::string_view state = id.end == End::kRevoked   ? "absent"
                               : id.end == End::kExpired ? "expired"
                                                         : "active";
      o.Open("outcome").Str("result", "success").Str("code", state).Close();
      o.Open("attributes").Str("observed_state", state);
      o.Str("checked_against", std::string(SubjSystem(id)) + "-inventory");
      o.Close();
      break;
    }
  }
  s.push_back('}');
}

// ---------------------------------------------------------------------------------------------
// Planning.

Workload::Workload() : impl_(std::make_unique<Impl>()) {}
Workload::Workload(Workload&&) noexcept = default;
Workload& Workload::operator=(Workload&&) noexcept = default;
Workload::~Workload() = default;

uint64_t Workload::size() const { return impl_->plan.size(); }

void Workload::Render(uint64_t i, RenderedEvent* out) const { impl_->Render(i, out); }

ChainKeys Workload::Chain(uint32_t chain) const {
  const Identity& id = impl_->ids[chain];
  bool provisioned = id.fate != Fate::kDenied && id.fate != Fate::kProvisionFailed &&
                     id.brk != static_cast<int>(BreakKind::kApprovalNeverProvisioned);
  return {id.corr, provisioned ? std::string_view(id.key) : std::string_view()};
}

Workload Workload::Plan(const WorkloadOptions& options) {
  Workload w;
  Impl& m = *w.impl_;
  m.opt = options;
  const uint64_t n = options.events;
  uint64_t k = options.identities != 0 ? options.identities : std::max<uint64_t>(1, n / 40);
  if (n < 10) {
    w.error_ = "--events must be at least 10";
    return w;
  }
  if (k > n / 10) {
    w.error_ = "--identities " + std::to_string(k) + " is too many for " + std::to_string(n) +
               " events (at most events / 10 = " + std::to_string(n / 10) + ")";
    return w;
  }
  if (k > 0xffffffffULL || n > 0xffffffffULL) {
    w.error_ = "at most 2^32 - 1 events and identities";
    return w;
  }
  if (!(options.zipf > 0) || !(options.broken_rate >= 0 && options.broken_rate <= 0.5) ||
      !(options.late_rate >= 0 && options.late_rate <= 1)) {
    w.error_ = "need zipf > 0, 0 <= broken-rate <= 0.5, 0 <= late-rate <= 1";
    return w;
  }
  WorkloadStats& st = w.stats_;
  st.events = n;
  st.identities = k;
  Rng r(Mix(options.seed));
  m.ids.resize(k);
  for (uint32_t i = 0; i < k; ++i) m.MakeIdentity(i, r, &m.ids[i]);

  // Fates. Breaks first: an exact number of chains, the kinds in turn, on random identities.
  std::vector<uint32_t> order(k);
  std::iota(order.begin(), order.end(), 0u);
  for (uint64_t i = k; i > 1; --i) std::swap(order[i - 1], order[r.Below(i)]);
  uint64_t broken =
      static_cast<uint64_t>(std::llround(static_cast<double>(k) * options.broken_rate));
  for (uint64_t j = 0; j < k; ++j) {
    Identity& id = m.ids[order[j]];
    if (j < broken) {
      id.brk = static_cast<int8_t>(j % kBreakKinds);
      continue;
    }
    double u = r.Uniform();
    id.fate = u < 0.04   ? Fate::kDenied
              : u < 0.05 ? Fate::kProvisionFailed
              : u < 0.07 ? Fate::kProvisionRetried
                         : Fate::kNormal;
  }

  // Times and ends.
  for (uint32_t i = 0; i < k; ++i) {
    Identity& id = m.ids[i];
    id.t_req = kSimStart + r.Range(0, kRequestSpan);
    id.t_dec = id.t_req + 2 * kMin + static_cast<int64_t>(std::min(r.Exp(3.0 * kHour), 3.0 * kDay));
    id.t_prov = id.t_dec + 5 * kSec + static_cast<int64_t>(std::min(r.Exp(8.0 * kMin), 1.0 * kDay));
    if (id.fate == Fate::kProvisionFailed || id.fate == Fate::kProvisionRetried) {
      id.t_prov_fail = id.t_prov;
      id.t_prov = id.t_prov_fail + r.Range(2 * kMin, 2 * kHour);
    }
    if (id.brk == static_cast<int>(BreakKind::kActionAfterExpiry)) {
      // Make the expiry fall inside the simulated period, leaving room for the late use.
      int64_t room = (kSimEnd - 3 * kDay - id.t_prov) / kSec;
      if (id.ttl_s > room) id.ttl_s = r.Range(std::min<int64_t>(86400, room), room);
    }
    // Truncate every planned time to its source's precision now, so that the ordering, the CSV
    // columns and the rendered strings agree.
    id.t_req = Truncate(id.t_req, kSources[SourceOf(id, Ev::kRequest)].digits);
    id.t_dec = Truncate(id.t_dec, kSources[SourceOf(id, Ev::kApproval)].digits);
    id.t_prov_fail = Truncate(id.t_prov_fail, kSources[SourceOf(id, Ev::kProvision)].digits);
    id.t_prov = Truncate(id.t_prov, kSources[SourceOf(id, Ev::kProvision)].digits);
    id.not_after = id.t_prov + id.ttl_s * kSec;

    bool expires_in_sim = id.not_after < kSimEnd;
    double u = r.Uniform();
    if (id.brk == static_cast<int>(BreakKind::kActionAfterRevocation)) {
      id.end = End::kRevoked;
    } else if (id.brk == static_cast<int>(BreakKind::kActionAfterExpiry)) {
      id.end = End::kExpired;
    } else if (u < 0.25) {
      id.end = End::kRevoked;
    } else {
      id.end = expires_in_sim ? End::kExpired : End::kActive;
    }
    int64_t hi = std::min(id.not_after, kSimEnd);
    if (id.end == End::kRevoked) {
      id.t_end = id.t_prov + static_cast<int64_t>((0.3 + 0.7 * r.Uniform()) *
                                                  static_cast<double>(hi - id.t_prov));
      id.t_end = std::max(id.t_end, id.t_prov + 10 * kMin);
      id.t_end = Truncate(id.t_end, kSources[SourceOf(id, Ev::kRevocation)].digits);
      id.act_hi = id.t_end - kSec;
      id.t_recon = id.t_end + r.Range(30 * kMin, 6 * kHour);
    } else if (id.end == End::kExpired) {
      id.t_end = Truncate(id.not_after + r.Range(0, 60 * kSec),
                          kSources[SourceOf(id, Ev::kExpiry)].digits);
      id.act_hi = id.not_after - kSec;
      id.t_recon = id.not_after + r.Range(1 * kHour, 24 * kHour);
    } else {
      id.t_end = 0;
      id.act_hi = kSimEnd - kSec;
      id.t_recon = r.Range(id.t_prov + kHour, kSimEnd);
    }
    id.t_recon = Truncate(id.t_recon, 0);
    id.act_lo = id.t_prov + kSec;
    if ((id.subj == Subj::kServiceAccount || id.subj == Subj::kWorkload) &&
        id.act_hi - id.act_lo > 2 * kDay && r.Chance(0.4)) {
      id.rotated = true;
      id.t_rot =
          Truncate(r.Range(id.act_lo, id.act_hi), kSources[SourceOf(id, Ev::kRotation)].digits);
    }
  }

  // Ticket numbers in order of request time, per ticket system; orphan provisions get numbers
  // no request ever used.
  {
    std::vector<uint32_t> by_time(k);
    std::iota(by_time.begin(), by_time.end(), 0u);
    std::sort(by_time.begin(), by_time.end(), [&](uint32_t a, uint32_t b) {
      return m.ids[a].t_req != m.ids[b].t_req ? m.ids[a].t_req < m.ids[b].t_req : a < b;
    });
    uint32_t jira = 10000, snow = 10000;
    for (uint32_t i : by_time) {
      Identity& id = m.ids[i];
      if (id.brk == static_cast<int>(BreakKind::kProvisionWithoutRequest)) continue;
      id.ticket = id.servicenow ? snow++ : jira++;
    }
    uint32_t orphan = jira + 500000;
    for (uint32_t i : by_time) {
      Identity& id = m.ids[i];
      if (id.brk == static_cast<int>(BreakKind::kProvisionWithoutRequest)) {
        id.servicenow = false;
        id.ticket = orphan++;
      }
      if (id.servicenow) {
        id.corr = "RITM";
        AppendDigits(id.ticket, 7, &id.corr);
      } else {
        id.corr = "SEC-" + std::to_string(id.ticket);
      }
    }
  }

  // The chain events.
  auto& plan = m.plan;
  plan.reserve(n);
  auto push = [&](uint32_t ident, Ev ev, int64_t t, uint32_t ordinal = 0) {
    plan.push_back(Planned{t, 0, ident, ordinal, ev});
  };
  std::vector<uint32_t> eligible;
  for (uint32_t i = 0; i < k; ++i) {
    Identity& id = m.ids[i];
    ++st.subjects[static_cast<size_t>(id.subj)];
    if (id.brk >= 0) {
      BreakCount& bc = st.breaks[static_cast<size_t>(id.brk)];
      ++bc.chains;
      switch (static_cast<BreakKind>(id.brk)) {
        case BreakKind::kApprovalNeverProvisioned:
          push(i, Ev::kRequest, id.t_req);
          push(i, Ev::kApproval, id.t_dec);
          ++bc.events;
          continue;
        case BreakKind::kProvisionWithoutRequest:
          ++bc.events;
          break;
        case BreakKind::kActionAfterRevocation: {
          int extra = static_cast<int>(1 + r.Below(3));
          for (int j = 0; j < extra; ++j) {
            push(i, Ev::kActionAfterRevocation,
                 Truncate(id.t_end + r.Range(10 * kMin, 3 * kDay),
                          kSources[SourceOf(id, Ev::kAction)].digits),
                 id.actions++);
          }
          bc.events += static_cast<uint64_t>(extra);
          break;
        }
        case BreakKind::kActionOutsideScope:
          push(i, Ev::kActionOutsideScope,
               Truncate(r.Range(id.act_lo, id.act_hi), kSources[SourceOf(id, Ev::kAction)].digits),
               id.actions++);
          ++bc.events;
          break;
        case BreakKind::kActionAfterExpiry: {
          int extra = static_cast<int>(1 + r.Below(3));
          for (int j = 0; j < extra; ++j) {
            push(i, Ev::kActionAfterExpiry,
                 Truncate(id.not_after + r.Range(10 * kMin, 2 * kDay),
                          kSources[SourceOf(id, Ev::kAction)].digits),
                 id.actions++);
          }
          bc.events += static_cast<uint64_t>(extra);
          break;
        }
      }
    } else if (id.fate == Fate::kDenied) {
      ++st.chains_denied;
      push(i, Ev::kRequest, id.t_req);
      push(i, Ev::kDenial, id.t_dec);
      continue;
    } else if (id.fate == Fate::kProvisionFailed) {
      ++st.chains_provision_failed;
      push(i, Ev::kRequest, id.t_req);
      push(i, Ev::kApproval, id.t_dec);
      push(i, Ev::kProvisionFailed, id.t_prov_fail);
      continue;
    } else {
      ++st.chains_normal;
      if (id.fate == Fate::kProvisionRetried) ++st.chains_provision_retried;
    }
    // A provisioned chain.
    if (id.brk != static_cast<int>(BreakKind::kProvisionWithoutRequest)) {
      push(i, Ev::kRequest, id.t_req);
      push(i, Ev::kApproval, id.t_dec);
    }
    if (id.fate == Fate::kProvisionRetried) push(i, Ev::kProvisionFailed, id.t_prov_fail);
    push(i, Ev::kProvision, id.t_prov);
    if (id.rotated) push(i, Ev::kRotation, id.t_rot);
    if (id.end == End::kRevoked) push(i, Ev::kRevocation, id.t_end);
    if (id.end == End::kExpired) push(i, Ev::kExpiry, id.t_end);
    push(i, Ev::kReconciliation, id.t_recon);
    if (id.act_hi > id.act_lo) eligible.push_back(i);
  }
  if (plan.size() > n) {
    w.error_ = "internal: the chains alone need " + std::to_string(plan.size()) + " events";
    return w;
  }

  // The uses: Zipf over the eligible identities in a random rank order.
  uint64_t actions = n - plan.size();
  st.actions_zipf = actions;
  if (actions > 0 && eligible.empty()) {
    w.error_ = "no identity can take actions; use more events or identities";
    return w;
  }
  // Zipf ranks: random, but weighted towards identities with long windows, so that the busiest
  // identities are long-lived service accounts and keys rather than one-hour tokens.
  {
    std::vector<std::pair<double, uint32_t>> keyed;
    keyed.reserve(eligible.size());
    for (uint32_t i : eligible) {
      const Identity& id = m.ids[i];
      double u = r.Uniform();
      keyed.emplace_back(-static_cast<double>(id.act_hi - id.act_lo) * u * u * u, i);
    }
    std::sort(keyed.begin(), keyed.end());
    for (size_t j = 0; j < keyed.size(); ++j) eligible[j] = keyed[j].second;
  }
  std::vector<double> cdf(eligible.size());
  double sum = 0;
  for (size_t j = 0; j < eligible.size(); ++j) {
    sum += std::pow(static_cast<double>(j + 1), -options.zipf);
    cdf[j] = sum;
  }
  for (uint64_t a = 0; a < actions; ++a) {
    double u = r.Uniform() * sum;
    size_t j = static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    if (j >= eligible.size()) j = eligible.size() - 1;
    uint32_t i = eligible[j];
    Identity& id = m.ids[i];
    int64_t t = Truncate(r.Range(id.act_lo, id.act_hi), kSources[SourceOf(id, Ev::kAction)].digits);
    if (t < id.act_lo) t += kSec;  // truncation must not move a use before its provision
    push(i, Ev::kAction, t, id.actions++);
  }
  for (const Identity& id : m.ids) {
    st.max_actions_per_identity = std::max<uint64_t>(st.max_actions_per_identity, id.actions);
  }

  // Arrival: each source delivers its records in time order after a delivery delay that
  // drifts between random values at each minute (linearly, slope < 1, so one source never
  // reorders its own records); different sources interleave out of time order. A few single
  // records arrive hours late (re-exports).
  auto knot = [&](Src src, int64_t minute) -> int64_t {
    uint64_t h = Mix(options.seed ^ Mix(static_cast<uint64_t>(minute) * 16 + src));
    return static_cast<int64_t>(h % static_cast<uint64_t>(kSources[src].max_delay + 1));
  };
  for (Planned& p : plan) {
    Src src = SourceOf(m.ids[p.ident], p.ev);
    int64_t minute = p.time_ns / kMin;
    double f = static_cast<double>(p.time_ns % kMin) / static_cast<double>(kMin);
    int64_t d0 = knot(src, minute), d1 = knot(src, minute + 1);
    p.arrival_ns = p.time_ns + d0 + static_cast<int64_t>(f * static_cast<double>(d1 - d0));
    if (r.Chance(options.late_rate)) p.arrival_ns += r.Range(1 * kHour, 12 * kHour);
  }
  std::sort(plan.begin(), plan.end(), [](const Planned& a, const Planned& b) {
    if (a.arrival_ns != b.arrival_ns) return a.arrival_ns < b.arrival_ns;
    if (a.ident != b.ident) return a.ident < b.ident;
    if (a.ev != b.ev) return a.ev < b.ev;
    return a.ordinal < b.ordinal;
  });

  int64_t max_t = std::numeric_limits<int64_t>::min();
  st.first_time_ns = std::numeric_limits<int64_t>::max();
  for (const Planned& p : plan) {
    if (p.time_ns < max_t) ++st.out_of_order;
    if (p.time_ns < max_t - kMin) ++st.late_over_minute;
    max_t = std::max(max_t, p.time_ns);
    st.first_time_ns = std::min(st.first_time_ns, p.time_ns);
    size_t kind = 0;
    switch (p.ev) {
      case Ev::kRequest:
        kind = 0;
        break;
      case Ev::kApproval:
        kind = 1;
        break;
      case Ev::kDenial:
        kind = 2;
        break;
      case Ev::kProvisionFailed:
      case Ev::kProvision:
        kind = 3;
        break;
      case Ev::kAction:
      case Ev::kActionOutsideScope:
      case Ev::kActionAfterRevocation:
      case Ev::kActionAfterExpiry:
        kind = 4;
        break;
      case Ev::kRotation:
        kind = 5;
        break;
      case Ev::kRevocation:
        kind = 6;
        break;
      case Ev::kExpiry:
        kind = 7;
        break;
      case Ev::kReconciliation:
        kind = 8;
        break;
    }
    ++st.kinds[kind];
  }
  st.last_time_ns = max_t;
  return w;
}

std::string Workload::StatsJson(const WorkloadOptions& o, uint64_t bytes) const {
  const WorkloadStats& st = stats_;
  std::string s;
  Obj j(&s);
  s.push_back('{');
  j.Int("events", static_cast<int64_t>(st.events)).Int("seed", static_cast<int64_t>(o.seed));
  j.Int("identities", static_cast<int64_t>(st.identities));
  char num[32];
  std::snprintf(num, sizeof num, "%g", o.zipf);
  j.Raw("zipf")->append(num);
  std::snprintf(num, sizeof num, "%g", o.broken_rate);
  j.Raw("broken_rate")->append(num);
  std::snprintf(num, sizeof num, "%g", o.late_rate);
  j.Raw("late_rate")->append(num);
  j.Int("bytes", static_cast<int64_t>(bytes));
  std::snprintf(num, sizeof num, "%.1f",
                st.events ? static_cast<double>(bytes) / static_cast<double>(st.events) : 0.0);
  j.Raw("avg_line_bytes")->append(num);
  j.Int("out_of_order", static_cast<int64_t>(st.out_of_order));
  j.Int("late_over_1min", static_cast<int64_t>(st.late_over_minute));
  j.Str("first_time", TimeString(st.first_time_ns, 3));
  j.Str("last_time", TimeString(st.last_time_ns, 3));
  j.Open("kinds");
  for (size_t i = 0; i < st.kinds.size(); ++i) {
    if (st.kinds[i] != 0) j.Int(KindNames()[i], static_cast<int64_t>(st.kinds[i]));
  }
  j.Close().Open("subjects");
  for (size_t i = 0; i < st.subjects.size(); ++i) {
    j.Int(SubjectNames()[i], static_cast<int64_t>(st.subjects[i]));
  }
  j.Close().Open("chains");
  j.Int("total", static_cast<int64_t>(st.identities));
  j.Int("normal", static_cast<int64_t>(st.chains_normal));
  j.Int("provision_retried", static_cast<int64_t>(st.chains_provision_retried));
  j.Int("denied", static_cast<int64_t>(st.chains_denied));
  j.Int("provision_failed", static_cast<int64_t>(st.chains_provision_failed));
  uint64_t broken = 0;
  for (const auto& b : st.breaks) broken += b.chains;
  j.Int("broken", static_cast<int64_t>(broken));
  j.Close();
  j.Int("actions_zipf", static_cast<int64_t>(st.actions_zipf));
  j.Int("max_actions_per_identity", static_cast<int64_t>(st.max_actions_per_identity));
  j.Open("breaks");
  for (int b = 0; b < kBreakKinds; ++b) {
    j.Open(BreakKindName(static_cast<BreakKind>(b)));
    j.Int("chains", static_cast<int64_t>(st.breaks[static_cast<size_t>(b)].chains));
    j.Int("events", static_cast<int64_t>(st.breaks[static_cast<size_t>(b)].events));
    j.Close();
  }
  j.Close();
  s.push_back('}');
  return s;
}

}  // namespace nhitrace::bench
