#include <cstdio>

#include <CLI/CLI.hpp>

#include "base/encoding.h"
#include "cli/commands.h"
#include "crypto/random.h"

namespace nhitrace::cli {

void RegisterInit(CLI::App& app, Context& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("init", "Create a store and its Ed25519 signing key");
  auto origin = std::make_shared<std::string>();
  cmd->add_option("--origin", *origin,
                  "Name of this log in its checkpoints (default: nhitrace/<random id>)");
  cmd->callback([&ctx, exit_code, origin] {
    std::string o = *origin;
    if (o.empty()) {
      auto id = crypto::RandomBytes(8);
      if (!id.ok()) {
        PrintError(id.status());
        *exit_code = kExitError;
        return;
      }
      o = "nhitrace/" + HexEncode(*id);
    }
    store::StoreOptions opts;
    opts.path = ctx.StorePath();
    Status s = ledger::Ledger::Init(opts, ctx.KeyPath(), o, ctx.clock());
    if (!s.ok()) {
      PrintError(s);
      *exit_code = kExitError;
      return;
    }
    auto l = ctx.OpenLedger(false);
    if (!l.ok()) {
      PrintError(l.status());
      *exit_code = kExitError;
      return;
    }
    std::printf("created store   %s\n", opts.path.c_str());
    std::printf("signing key     %s (mode 0600; keep it secret, back it up)\n",
                ctx.KeyPath().c_str());
    std::printf("origin          %s\n", o.c_str());
    std::printf("verifier key    %s\n", (*l)->verifier().ToString().c_str());
    *exit_code = kExitOk;
  });
}

}  // namespace nhitrace::cli
