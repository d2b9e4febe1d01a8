#include "ingest/github_audit/github_audit.h"

#include <string>
#include <vector>

#include <simdjson.h>

#include "ingest/internal/vendor_detect.h"
#include "ingest/internal/vendor_json.h"
#include "json/dom.h"

namespace nhitrace::ingest::github_audit {
namespace {

using internal::Attributes;
using internal::Draft;
using internal::element;
using internal::EndsWith;
using internal::FieldError;
using internal::Member;
using simdjson::dom::element_type;

constexpr std::string_view kBotSuffix = "[bot]";

class RecordMapper {
 public:
  RecordMapper(const element& rec) : rec_(rec) {
    data_ = Member(rec, "data");  // GitHub Enterprise Server's older export nests fields here
    action_ = std::string(internal::AsString(Field("action")).value_or(""));
    size_t dot = action_.find('.');
    category_ = action_.substr(0, dot);
    verb_ = dot == std::string::npos ? "" : action_.substr(dot + 1);
    actor_login_ = std::string(internal::AsString(Field("actor")).value_or(""));
    bool bot = internal::AsBool(Field("actor_is_bot")).value_or(false);
    if (EndsWith(actor_login_, kBotSuffix)) {
      bot = true;
      app_slug_ = actor_login_.substr(0, actor_login_.size() - kBotSuffix.size());
    } else if (bot) {
      app_slug_ = actor_login_;
    }
    if (!actor_login_.empty()) {
      actor_ = bot && !app_slug_.empty() ? event::Actor{"github:app:" + app_slug_, "nhi"}
                                         : event::Actor{actor_login_, "human"};
    }
    owner_ = std::string(internal::AsString(Field("org")).value_or(""));
    if (owner_.empty()) owner_ = std::string(internal::AsString(Field("user")).value_or(""));
    if (owner_.empty()) owner_ = std::string(internal::AsString(Field("business")).value_or(""));
  }

  const std::string& action() const { return action_; }

  std::optional<element> Field(std::string_view name) const {
    if (auto v = Member(rec_, name)) return v;
    if (data_ && data_->type() == element_type::OBJECT) return Member(*data_, name);
    return std::nullopt;
  }
  std::optional<std::string_view> Str(std::string_view name) const {
    return internal::AsString(Field(name));
  }
  std::optional<std::string> Scalar(std::string_view name) const {
    return internal::ScalarText(Field(name));
  }

  Result<std::vector<Draft>> Map() {
    std::vector<Draft> drafts;
    if (category_ == "personal_access_token" || category_ == "programmatic_access_grant") {
      NHI_RETURN_IF_ERROR(PersonalAccessToken(&drafts));
      return drafts;  // token data in these events describes the token, not the caller's
    }
    if (category_ == "oauth_access") {
      NHI_RETURN_IF_ERROR(OAuthAccess(&drafts));
      return drafts;
    }
    if (category_ == "public_key" || category_ == "deploy_key") {
      NHI_RETURN_IF_ERROR(PublicKey(&drafts));
    } else if (category_ == "integration_installation") {
      NHI_RETURN_IF_ERROR(Installation(&drafts));
    }
    if (Field("token_id") || Field("hashed_token")) {
      NHI_RETURN_IF_ERROR(TokenUse(&drafts));
    } else if (actor_ && actor_->type == "nhi") {
      BotAction(&drafts);
    }
    return drafts;
  }

 private:
  Attributes Common() const {
    Attributes a;
    a.String("action", action_);
    a.String("org", Str("org"));
    a.String("repo", Str("repo"));
    a.String("business", Str("business"));
    a.String("user", Str("user"));
    a.String("user_agent", Str("user_agent"));
    a.String("actor_country", internal::StringAt(rec_, {"actor_location", "country_code"}));
    a.String("programmatic_access_type", Str("programmatic_access_type"));
    return a;
  }

  event::Event Base(event::Kind kind) const {
    event::Event e;
    e.kind = kind;
    e.actor = actor_;
    return e;
  }

  // "token_scopes": "repo,read:org" (or a list).
  std::vector<std::string> ListField(std::string_view name) const {
    std::vector<std::string> out;
    auto v = Field(name);
    if (auto s = internal::AsString(v)) return internal::SplitList(*s);
    for (const auto& item : internal::ArrayItems(v)) {
      if (auto t = internal::ScalarText(item)) out.push_back(*t);
    }
    return out;
  }

  // "permissions": {"contents": "read", "metadata": "read"} -> contents:read, metadata:read.
  std::vector<std::string> Permissions(std::string_view name = "permissions") const {
    std::vector<std::string> out;
    auto v = Field(name);
    if (v && v->type() == element_type::OBJECT) {
      for (auto kv : json::ObjectOf(*v)) {
        std::string p(kv.key);
        if (auto level = internal::ScalarText(kv.value)) p += ":" + *level;
        out.push_back(std::move(p));
      }
      return out;
    }
    return ListField(name);
  }

  // The repositories a grant covers: listed names, or all of the owner's ("<owner>/*").
  std::vector<std::string> Repositories(std::string_view name = "repositories") const {
    std::vector<std::string> out;
    for (const auto& item : internal::ArrayItems(Field(name))) {
      if (auto s = internal::AsString(item)) {
        out.emplace_back(*s);
      } else if (auto full = internal::StringAt(item, {"full_name"})) {
        out.emplace_back(*full);
      } else if (auto id = internal::ScalarText(item)) {
        out.push_back("repo_id:" + *id);
      }
    }
    if (out.empty()) {
      auto selection = Str("repository_selection");
      if (selection && *selection == "all" && !owner_.empty()) out.push_back(owner_ + "/*");
    }
    return out;
  }

  std::optional<event::Scope> GrantScope(std::vector<std::string> resources,
                                         std::vector<std::string> permissions) const {
    if (resources.empty() && permissions.empty()) return std::nullopt;
    return event::Scope{std::move(resources), std::move(permissions)};
  }

  Status PersonalAccessToken(std::vector<Draft>* out) {
    auto token_id = Scalar("token_id");
    if (!token_id) token_id = Scalar("user_programmatic_access_id");
    if (!token_id) return FieldError("token_id", "missing: cannot name the token");
    const std::string token = "github:token:" + *token_id;
    const std::string grant =
        "github:pat-grant:" + (owner_.empty() ? "-" : owner_) + "/" + *token_id;
    event::Subject subject;
    subject.kind = "token";
    subject.system = "github";
    subject.name = std::string(Str("user_programmatic_access_name").value_or(""));
    auto scope = GrantScope(Repositories(), Permissions());
    Attributes a = Common();
    a.String("token_id", *token_id);
    a.String("repository_selection", Str("repository_selection"));
    a.String("requester", Str("requester"));
    const std::string attributes = a.Finish();

    auto add = [&](event::Kind kind, const std::string& correlation, std::string suffix) {
      Draft d;
      d.suffix = std::move(suffix);
      d.event = Base(kind);
      d.event.identity = token;
      d.event.correlation_key = correlation;
      d.event.subject = subject;
      d.event.attributes = attributes;
      return d;
    };
    const std::string& v = verb_;
    if (v == "create" || v == "update") {
      Draft d = add(event::Kind::kProvision, token, "token");
      d.event.scope = scope;
      out->push_back(std::move(d));
    } else if (v == "regenerate" || v == "credential_regenerated") {
      out->push_back(add(event::Kind::kRotation, token, "token"));
    } else if (v == "destroy" || v == "credential_revoked") {
      out->push_back(add(event::Kind::kRevocation, token, "token"));
    } else if (v == "request_created") {
      Draft d = add(event::Kind::kRequest, grant, "request");
      d.event.scope = scope;
      out->push_back(std::move(d));
    } else if (v == "request_denied") {
      out->push_back(add(event::Kind::kDenial, grant, "denial"));
    } else if (v == "request_cancelled") {
      Draft d = add(event::Kind::kSignal, grant, "signal");
      d.event.rationale = "request cancelled";
      out->push_back(std::move(d));
    } else if (v == "access_granted") {
      // Someone other than the requester granted the request: that is an approval.
      auto requester = Str("requester");
      if (requester && actor_ && actor_->id != *requester) {
        Draft approval = add(event::Kind::kApproval, grant, "approval");
        approval.event.scope = scope;
        out->push_back(std::move(approval));
      }
      Draft d = add(event::Kind::kProvision, grant, "grant");
      d.event.scope = scope;
      out->push_back(std::move(d));
    } else if (v == "access_revoked") {
      out->push_back(add(event::Kind::kRevocation, grant, "grant"));
    }
    return OkStatus();
  }

  Status OAuthAccess(std::vector<Draft>* out) {
    auto id = Scalar("oauth_access_id");
    if (!id) id = Scalar("token_id");
    if (!id) return FieldError("oauth_access_id", "missing: cannot name the token");
    event::Kind kind;
    if (verb_ == "create" || verb_ == "update") {
      kind = event::Kind::kProvision;
    } else if (verb_ == "regenerate") {
      kind = event::Kind::kRotation;
    } else if (verb_ == "destroy") {
      kind = event::Kind::kRevocation;
    } else {
      return OkStatus();
    }
    Draft d;
    d.suffix = "token";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = "github:token:" + *id;
    e.correlation_key = e.identity;
    if (auto h = Str("hashed_token")) e.aliases.push_back("github:hashed-token:" + std::string(*h));
    if (auto user = Str("user")) e.aliases.push_back("github:user:" + std::string(*user));
    e.subject = event::Subject{"token", std::string(Str("application_name").value_or("")),
                               std::string(Str("user").value_or("")), "", "github"};
    if (kind == event::Kind::kProvision) {
      auto scopes = ListField("scopes");
      if (scopes.empty()) scopes = ListField("token_scopes");
      e.scope = GrantScope({}, scopes);
    }
    Attributes a = Common();
    a.String("oauth_access_id", *id);
    a.String("application_name", Str("application_name"));
    a.String("application_id", Scalar("application_id"));
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  Status PublicKey(std::vector<Draft>* out) {
    event::Kind kind;
    if (verb_ == "create") {
      kind = event::Kind::kProvision;
    } else if (verb_ == "delete" || verb_ == "destroy") {
      kind = event::Kind::kRevocation;
    } else {
      return OkStatus();
    }
    auto id = Scalar("public_key_id");
    auto fingerprint = Str("fingerprint");
    if (!id && !fingerprint) {
      return FieldError("public_key_id", "missing (and no fingerprint): cannot name the key");
    }
    auto repo = Str("repo");
    const bool deploy = repo.has_value() || category_ == "deploy_key";
    std::string name = id ? *id : std::string(*fingerprint);
    Draft d;
    d.suffix = "key";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = (deploy ? "github:deploy-key:" : "github:ssh-key:") + name;
    e.correlation_key = e.identity;
    if (id && fingerprint) {
      e.aliases.push_back("github:key-fingerprint:" + std::string(*fingerprint));
    }
    if (!deploy) {
      if (auto user = Str("user")) e.aliases.push_back("github:user:" + std::string(*user));
    }
    e.subject = event::Subject{"api_key", std::string(Str("title").value_or("")), "", "", "github"};
    if (kind == event::Kind::kProvision && repo) {
      auto read_only = internal::AsBool(Field("read_only"));
      std::vector<std::string> permissions;
      if (read_only) permissions.push_back(*read_only ? "read" : "write");
      e.scope = GrantScope({std::string(*repo)}, permissions);
    }
    Attributes a = Common();
    a.String("public_key_id", id ? std::optional<std::string_view>(*id) : std::nullopt);
    a.String("fingerprint", fingerprint);
    a.String("title", Str("title"));
    a.String("explanation", Str("explanation"));
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  Status Installation(std::vector<Draft>* out) {
    event::Kind kind;
    std::vector<std::string> repos;
    if (verb_ == "create" || verb_ == "unsuspend" || verb_ == "version_updated") {
      kind = event::Kind::kProvision;
      repos = Repositories();
    } else if (verb_ == "repositories_added") {
      kind = event::Kind::kProvision;
      repos = Repositories("repositories_added");
      if (repos.empty()) repos = Repositories();
    } else if (verb_ == "destroy" || verb_ == "suspend") {
      kind = event::Kind::kRevocation;
    } else if (verb_ == "repositories_removed") {
      // Fewer repositories, the installation stays: a statement, not the end of the grant.
      kind = event::Kind::kIdentity;
      repos = Repositories("repositories_removed");
      if (repos.empty()) repos = Repositories();
    } else {
      return OkStatus();
    }
    auto app = Str("integration");
    auto name = Str("name");
    auto installation = Scalar("installation_id");
    std::string key;
    if (installation) {
      key = "github:app-installation:" + *installation;
    } else if (app || name) {
      if (owner_.empty()) return FieldError("org", "missing: cannot name the installation");
      key = "github:app-installation:" + owner_ + "/" + std::string(app ? *app : *name);
    } else {
      return FieldError("installation_id", "missing (and no integration or name)");
    }
    Draft d;
    d.suffix = "installation";
    d.event = Base(kind);
    event::Event& e = d.event;
    e.identity = key;
    e.correlation_key = key;
    if (app) e.aliases.push_back("github:app:" + std::string(*app));
    e.subject =
        event::Subject{"oauth_app", std::string(name ? *name : app.value_or("")), "", "", "github"};
    if (kind != event::Kind::kRevocation) e.scope = GrantScope(repos, Permissions());
    if (kind == event::Kind::kIdentity) e.rationale = "repositories removed from the installation";
    Attributes a = Common();
    a.String("integration", app);
    a.String("name", name);
    a.String("installation_id",
             installation ? std::optional<std::string_view>(*installation) : std::nullopt);
    a.String("repository_selection", Str("repository_selection"));
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  Status TokenUse(std::vector<Draft>* out) {
    auto token_id = Scalar("token_id");
    auto hashed = Str("hashed_token");
    Draft d;
    d.suffix = "action";
    d.event = Base(event::Kind::kAction);
    event::Event& e = d.event;
    if (token_id) {
      e.identity = "github:token:" + *token_id;
      if (hashed) e.aliases.push_back("github:hashed-token:" + std::string(*hashed));
    } else if (hashed) {
      e.identity = "github:hashed-token:" + std::string(*hashed);
    } else {
      return FieldError("token_id", "must be a string or number");
    }
    // The token acts as its user (or, for an installation token, its app).
    if (actor_ && actor_->type == "nhi") {
      e.aliases.push_back(actor_->id);
    } else if (!actor_login_.empty()) {
      e.aliases.push_back("github:user:" + actor_login_);
    }
    if (auto repo = Str("repo")) {
      e.scope = event::Scope{{std::string(*repo)}, {}};
    } else if (auto org = Str("org")) {
      e.scope = event::Scope{{std::string(*org)}, {}};
    }
    if (auto code = internal::AsInt(Field("status_code"))) {
      event::Outcome o;
      o.result = *code >= 400 ? "failure" : "success";
      o.code = std::to_string(*code);
      e.outcome = o;
    }
    Attributes a = Common();
    a.Strings("token_scopes", ListField("token_scopes"));
    a.String("route", Str("route"));
    a.String("request_method", Str("request_method"));
    a.String("url_path", Str("url_path"));
    a.String("request_category", Str("request_category"));
    if (auto code = internal::AsInt(Field("status_code"))) a.Int("status_code", *code);
    e.attributes = a.Finish();
    out->push_back(std::move(d));
    return OkStatus();
  }

  void BotAction(std::vector<Draft>* out) {
    Draft d;
    d.suffix = "action";
    d.event = Base(event::Kind::kAction);
    d.event.identity = actor_->id;
    if (auto repo = Str("repo")) {
      d.event.scope = event::Scope{{std::string(*repo)}, {}};
    } else if (auto org = Str("org")) {
      d.event.scope = event::Scope{{std::string(*org)}, {}};
    }
    d.event.attributes = Common().Finish();
    out->push_back(std::move(d));
  }

  const element& rec_;
  std::optional<element> data_;
  std::string action_;
  std::string category_;
  std::string verb_;
  std::string actor_login_;
  std::string app_slug_;
  std::string owner_;
  std::optional<event::Actor> actor_;
};

class GithubAuditImporter final : public Importer {
 public:
  std::string_view format() const override { return kFormat; }

  Result<MapResult> Map(const simdjson::dom::element& record, std::string_view) override {
    if (record.type() != element_type::OBJECT) {
      return FieldError("record", "must be a JSON object");
    }
    RecordMapper mapper(record);
    if (mapper.action().empty()) {
      return FieldError("action", "missing: not a GitHub audit log event");
    }
    std::string id;
    if (auto doc = mapper.Scalar("_document_id")) {
      id = *doc;
    } else {
      NHI_ASSIGN_OR_RETURN(id, internal::ContentId(record));
    }
    NHI_ASSIGN_OR_RETURN(auto drafts, mapper.Map());
    if (drafts.empty()) return MapResult{{}, mapper.action()};
    std::optional<element> when = mapper.Field("@timestamp");
    std::string_view field = "@timestamp";
    if (!when) {
      when = mapper.Field("created_at");
      field = "created_at";
    }
    NHI_ASSIGN_OR_RETURN(auto time, internal::ReadTimestamp(when, field, /*epoch_ms=*/true));
    return internal::FinishEvents(std::move(drafts), kSourceSystem, id, time, mapper.action());
  }
};

}  // namespace

std::unique_ptr<Importer> MakeImporter() { return std::make_unique<GithubAuditImporter>(); }

bool LooksLike(const simdjson::dom::element& record) {
  return internal::DetectVendorFormat(record) == internal::VendorFormat::kGithubAudit;
}

}  // namespace nhitrace::ingest::github_audit
