// nhitrace: the evidence engine for non-human identities. See docs/cli.md.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace nhitrace;
  cli::Context ctx(SystemClock::Instance());
  CLI::App app{"nhitrace: tamper-evident evidence for non-human identities"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("nhitrace ") + cli::kVersion);
  app.add_option("--store", ctx.options.store,
                 "Store file (default: $NHITRACE_STORE, else ./nhitrace.db)")
      ->envname("")
      ->group("Global");
  app.add_option("--key-file", ctx.options.key_file,
                 "Signing key file (default: $NHITRACE_KEY_FILE, else <store>.key)")
      ->group("Global");
  app.fallthrough();

  int exit_code = cli::kExitOk;
  cli::RegisterInit(app, ctx, &exit_code);
  cli::RegisterIngest(app, ctx, &exit_code);
  cli::RegisterLedgerCommands(app, ctx, &exit_code);
  cli::RegisterEventCommands(app, ctx, &exit_code);
  cli::RegisterTraceCommands(app, ctx, &exit_code);
  cli::RegisterServe(app, ctx, &exit_code);
  cli::RegisterTokenCommands(app, ctx, &exit_code);
  cli::RegisterPolicyCommands(app, ctx, &exit_code);
  cli::RegisterReconcileCommands(app, ctx, &exit_code);
  cli::RegisterCaseCommands(app, ctx, &exit_code);
  cli::RegisterEvidenceCommands(app, ctx, &exit_code);
  cli::RegisterReportCommands(app, ctx, &exit_code);
  for (auto* sub : app.get_subcommands({})) sub->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? cli::kExitOk : cli::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nhitrace: internal error: %s\n", e.what());
    return cli::kExitError;
  }
  return exit_code;
}
