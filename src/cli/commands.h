// The subcommands. Each Register* adds one subcommand to `app` whose callback stores the
// exit status of the run in *exit_code.
#pragma once

#include "cli/context.h"

namespace CLI {
class App;
}

namespace nhitrace::cli {

void RegisterInit(CLI::App& app, Context& ctx, int* exit_code);
void RegisterIngest(CLI::App& app, Context& ctx, int* exit_code);
void RegisterLedgerCommands(CLI::App& app, Context& ctx,
                            int* exit_code);  // checkpoint key prove verify
void RegisterEventCommands(CLI::App& app, Context& ctx, int* exit_code);  // show events quarantine
void RegisterTraceCommands(CLI::App& app, Context& ctx,
                           int* exit_code);  // trace identities rebuild
void RegisterServe(CLI::App& app, Context& ctx, int* exit_code);
void RegisterTokenCommands(CLI::App& app, Context& ctx,
                           int* exit_code);  // token create list revoke
void RegisterPolicyCommands(CLI::App& app, Context& ctx,
                            int* exit_code);  // policy publish|list|show|diff
void RegisterReconcileCommands(CLI::App& app, Context& ctx,
                               int* exit_code);  // reconcile findings replay
// case open|show|list|assign|transition|... (docs/cases.md)
void RegisterCaseCommands(CLI::App& app, Context& ctx, int* exit_code);
void RegisterEvidenceCommands(CLI::App& app, Context& ctx,
                              int* exit_code);  // export verify-pack erase
void RegisterReportCommands(CLI::App& app, Context& ctx, int* exit_code);  // report
// Parses --from/--to (RFC 3339; either may be empty) into a window; kInvalidArgument when a
// time is malformed or the window is empty.
Status ParseWindow(const std::string& from, const std::string& to, std::optional<int64_t>* from_ns,
                   std::optional<int64_t>* to_ns);

}  // namespace nhitrace::cli
