// nhitrace token create|list|revoke: bearer tokens of the HTTP API (docs/api/README.md).
#include <cstdio>

#include <CLI/CLI.hpp>

#include "api/auth.h"
#include "cli/commands.h"
#include "json/writer.h"

namespace nhitrace::cli {
namespace {

void WriteTokenJson(json::JsonWriter& w, const store::ApiTokenRow& t) {
  w.Key("id").String(t.id);
  w.Key("name").String(t.name);
  w.Key("role").String(t.role);
  w.Key("created_at").String(FormatRfc3339Utc(t.created_ns));
  w.Key("revoked_at");
  if (t.revoked_ns) {
    w.String(FormatRfc3339Utc(*t.revoked_ns));
  } else {
    w.Null();
  }
}

// The audit row of a token change made with the CLI (the local operator, not a token).
store::ApiAuditRow CliAudit(const Context& ctx, std::string action, std::string_view token) {
  store::ApiAuditRow a;
  a.time_ns = ctx.clock().NowUnixNanos();
  a.request_id = "cli";
  a.token_id = "-";
  a.token_name = "cli";
  a.role = "admin";
  a.action = std::move(action);
  json::JsonWriter w;
  w.BeginObject();
  w.Key("token").String(token);
  w.EndObject();
  a.detail = w.Take();
  return a;
}

Status Create(Context& ctx, const std::string& name, const std::string& role_name, bool json) {
  auto role = api::ParseRole(role_name);
  if (!role) {
    return InvalidArgumentError("--role " + role_name + ": must be one of " + api::AllRoleNames());
  }
  NHI_ASSIGN_OR_RETURN(api::NewToken t, api::MakeToken(name, *role, ctx.clock()));
  NHI_ASSIGN_OR_RETURN(auto store, ctx.OpenStoreOnly());
  NHI_ASSIGN_OR_RETURN(auto txn, store->BeginWrite());
  NHI_RETURN_IF_ERROR(txn->InsertApiToken(t.row));
  NHI_RETURN_IF_ERROR(txn->InsertApiAudit(CliAudit(ctx, "token.create", t.row.id)));
  NHI_RETURN_IF_ERROR(txn->Commit());
  if (json) {
    json::JsonWriter w;
    w.BeginObject();
    WriteTokenJson(w, t.row);
    w.Key("token").String(t.token);
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("%s\n", t.token.c_str());
    std::fprintf(stderr,
                 "created token %s (id %s, role %s). It is shown only now: only its SHA-256 "
                 "is stored.\nUse it as: Authorization: Bearer <token>\n",
                 t.row.name.c_str(), t.row.id.c_str(), t.row.role.c_str());
  }
  return OkStatus();
}

Status List(Context& ctx, bool json) {
  NHI_ASSIGN_OR_RETURN(auto store, ctx.OpenStoreOnly());
  NHI_ASSIGN_OR_RETURN(auto rows, store->ListApiTokens());
  if (json) {
    json::JsonWriter w;
    w.BeginArray();
    for (const auto& t : rows) {
      w.BeginObject();
      WriteTokenJson(w, t);
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", w.str().c_str());
    return OkStatus();
  }
  std::printf("%-16s %-24s %-13s %-20s %s\n", "ID", "NAME", "ROLE", "CREATED (UTC)", "REVOKED");
  for (const auto& t : rows) {
    std::printf("%-16s %-24s %-13s %-20s %s\n", t.id.c_str(), t.name.c_str(), t.role.c_str(),
                FormatRfc3339Utc(t.created_ns, 0).c_str(),
                t.revoked_ns ? FormatRfc3339Utc(*t.revoked_ns, 0).c_str() : "-");
  }
  std::printf("%zu token(s)\n", rows.size());
  return OkStatus();
}

Status Revoke(Context& ctx, const std::string& which) {
  NHI_ASSIGN_OR_RETURN(auto store, ctx.OpenStoreOnly());
  NHI_ASSIGN_OR_RETURN(auto txn, store->BeginWrite());
  NHI_ASSIGN_OR_RETURN(bool revoked, txn->RevokeApiToken(which, ctx.clock().NowUnixNanos()));
  if (!revoked) return NotFoundError("no unrevoked token with id or name " + which);
  NHI_RETURN_IF_ERROR(txn->InsertApiAudit(CliAudit(ctx, "token.revoke", which)));
  NHI_RETURN_IF_ERROR(txn->Commit());
  std::printf("revoked %s\n", which.c_str());
  return OkStatus();
}

}  // namespace

void RegisterTokenCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* token = app.add_subcommand("token", "Bearer tokens of the HTTP API");
  token->require_subcommand(1);
  auto finish = [exit_code](const Status& s) {
    if (!s.ok()) PrintError(s);
    *exit_code =
        s.ok() ? kExitOk : (s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitError);
  };
  {
    struct Args {
      std::string name, role;
      bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = token->add_subcommand("create", "Create a token and print it (shown only once)");
    cmd->add_option("--name", a->name, "Unique name, recorded as the actor of what it does")
        ->required();
    cmd->add_option("--role", a->role,
                    "ingest, investigator, approver, control_owner, auditor, admin")
        ->required();
    cmd->add_flag("--json", a->json, "JSON output (the token included)");
    cmd->callback([&ctx, a, finish] { finish(Create(ctx, a->name, a->role, a->json)); });
  }
  {
    auto json = std::make_shared<bool>(false);
    auto* cmd = token->add_subcommand("list", "List tokens (never their secrets)");
    cmd->add_flag("--json", *json, "JSON output");
    cmd->callback([&ctx, json, finish] { finish(List(ctx, *json)); });
  }
  {
    auto which = std::make_shared<std::string>();
    auto* cmd = token->add_subcommand("revoke", "Revoke a token; it stops working at once");
    cmd->add_option("token", *which, "The token's id or name")->required();
    cmd->callback([&ctx, which, finish] { finish(Revoke(ctx, *which)); });
  }
}

}  // namespace nhitrace::cli
