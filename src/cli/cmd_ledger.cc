#include <cstdio>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "base/encoding.h"
#include "cli/commands.h"
#include "json/writer.h"
#include "ledger/verify.h"

namespace nhitrace::cli {
namespace {

void WriteHashes(json::JsonWriter& w, std::string_view key, const std::vector<tlog::Hash>& hs) {
  w.Key(key).BeginArray();
  for (const auto& h : hs) w.String(Base64Encode(crypto::AsBytes(h)));
  w.EndArray();
}

template <typename F>
int WithLedger(Context& ctx, bool need_signer, F&& f) {
  auto ledger = ctx.OpenLedger(need_signer);
  if (!ledger.ok()) {
    PrintError(ledger.status());
    return kExitError;
  }
  Status s = f(**ledger);
  if (!s.ok()) {
    PrintError(s);
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void RegisterLedgerCommands(CLI::App& app, Context& ctx, int* exit_code) {
  // checkpoint
  {
    auto size = std::make_shared<std::optional<uint64_t>>();
    auto* cmd = app.add_subcommand("checkpoint", "Print the latest signed checkpoint");
    cmd->add_option("--size", *size, "The checkpoint for this tree size instead");
    cmd->callback([&ctx, exit_code, size] {
      *exit_code = WithLedger(ctx, false, [&](ledger::Ledger& l) -> Status {
        std::string note;
        if (*size) {
          NHI_ASSIGN_OR_RETURN(note, l.CheckpointNote(**size));
        } else {
          NHI_ASSIGN_OR_RETURN(store::CheckpointRow cp, l.LatestCheckpoint());
          note = cp.note;
        }
        std::fputs(note.c_str(), stdout);
        return OkStatus();
      });
    });
  }
  // key
  {
    auto* cmd = app.add_subcommand("key", "Print the verifier key (name+id+base64 public key)");
    cmd->callback([&ctx, exit_code] {
      *exit_code = WithLedger(ctx, false, [&](ledger::Ledger& l) -> Status {
        std::printf("%s\n", l.verifier().ToString().c_str());
        return OkStatus();
      });
    });
  }
  // prove
  {
    auto* prove = app.add_subcommand("prove", "Print inclusion or consistency proofs");
    prove->require_subcommand(1);

    struct InclArgs {
      uint64_t seq = 0;
      std::optional<uint64_t> size;
      bool json = false;
    };
    auto ia = std::make_shared<InclArgs>();
    auto* incl = prove->add_subcommand("inclusion", "Prove that event SEQ is in the ledger");
    incl->add_option("seq", ia->seq, "Event sequence number (leaf index)")->required();
    incl->add_option("--size", ia->size, "Tree size to prove against (default: latest)");
    incl->add_flag("--json", ia->json, "JSON output");
    incl->callback([&ctx, exit_code, ia] {
      *exit_code = WithLedger(ctx, false, [&](ledger::Ledger& l) -> Status {
        NHI_ASSIGN_OR_RETURN(auto p, l.ProveInclusion(ia->seq, ia->size));
        if (ia->json) {
          json::JsonWriter w;
          w.BeginObject();
          w.Key("leaf_index").Uint(p.leaf_index);
          w.Key("tree_size").Uint(p.tree_size);
          w.Key("leaf_hash").String(Base64Encode(crypto::AsBytes(p.leaf_hash)));
          WriteHashes(w, "hashes", p.hashes);
          w.Key("checkpoint").String(p.checkpoint);
          w.EndObject();
          std::printf("%s\n", w.str().c_str());
        } else {
          std::printf("leaf %llu in tree of size %llu\nleaf hash %s\n",
                      static_cast<unsigned long long>(p.leaf_index),
                      static_cast<unsigned long long>(p.tree_size),
                      Base64Encode(crypto::AsBytes(p.leaf_hash)).c_str());
          for (size_t i = 0; i < p.hashes.size(); ++i) {
            std::printf("  %2zu %s\n", i, Base64Encode(crypto::AsBytes(p.hashes[i])).c_str());
          }
          std::printf("verified against:\n%s", p.checkpoint.c_str());
        }
        return OkStatus();
      });
    });

    struct ConsArgs {
      uint64_t size1 = 0;
      std::optional<uint64_t> size2;
      bool json = false;
    };
    auto ca = std::make_shared<ConsArgs>();
    auto* cons =
        prove->add_subcommand("consistency", "Prove that the tree of SIZE1 is a prefix of SIZE2");
    cons->add_option("size1", ca->size1, "The older tree size")->required();
    cons->add_option("size2", ca->size2, "The newer tree size (default: latest)");
    cons->add_flag("--json", ca->json, "JSON output");
    cons->callback([&ctx, exit_code, ca] {
      *exit_code = WithLedger(ctx, false, [&](ledger::Ledger& l) -> Status {
        NHI_ASSIGN_OR_RETURN(auto p, l.ProveConsistency(ca->size1, ca->size2));
        if (ca->json) {
          json::JsonWriter w;
          w.BeginObject();
          w.Key("size1").Uint(p.size1);
          w.Key("size2").Uint(p.size2);
          WriteHashes(w, "hashes", p.hashes);
          w.Key("checkpoint1").String(p.checkpoint1);
          w.Key("checkpoint2").String(p.checkpoint2);
          w.EndObject();
          std::printf("%s\n", w.str().c_str());
        } else {
          std::printf("tree %llu is a prefix of tree %llu\n",
                      static_cast<unsigned long long>(p.size1),
                      static_cast<unsigned long long>(p.size2));
          for (size_t i = 0; i < p.hashes.size(); ++i) {
            std::printf("  %2zu %s\n", i, Base64Encode(crypto::AsBytes(p.hashes[i])).c_str());
          }
          std::printf("old checkpoint:\n%s\nnew checkpoint:\n%s", p.checkpoint1.c_str(),
                      p.checkpoint2.c_str());
        }
        return OkStatus();
      });
    });
  }
  // verify
  {
    struct VerifyArgs {
      std::string key;
      bool json = false;
    };
    auto va = std::make_shared<VerifyArgs>();
    auto* cmd = app.add_subcommand(
        "verify", "Re-derive every hash, node and checkpoint from the stored bytes");
    cmd->add_option("--key", va->key,
                    "Trusted verifier key to check signatures with (default: the store's own)");
    cmd->add_flag("--json", va->json, "JSON report");
    cmd->callback([&ctx, exit_code, va] {
      ledger::VerifyOptions opts;
      if (!va->key.empty()) {
        auto k = tlog::NoteVerifier::Parse(va->key);
        if (!k.ok()) {
          PrintError(k.status().WithContext("--key"));
          *exit_code = kExitUsage;
          return;
        }
        opts.trusted_key = *k;
      }
      auto store = ctx.OpenStoreOnly();
      if (!store.ok()) {
        PrintError(store.status());
        *exit_code = kExitError;
        return;
      }
      bool tty = ::isatty(2) == 1 && !va->json;
      if (tty) {
        opts.progress = [](uint64_t done, uint64_t total) {
          std::fprintf(stderr, "\rverifying %llu/%llu events",
                       static_cast<unsigned long long>(done),
                       static_cast<unsigned long long>(total));
        };
      }
      auto report = ledger::Verify(**store, opts);
      if (tty) std::fputs("\n", stderr);
      if (!report.ok()) {
        PrintError(report.status());
        *exit_code = kExitError;
        return;
      }
      const auto& r = *report;
      if (va->json) {
        json::JsonWriter w;
        w.BeginObject();
        w.Key("ok").Bool(r.ok());
        w.Key("events").Uint(r.events);
        w.Key("raw_checked").Uint(r.raw_checked);
        w.Key("raw_erased").Uint(r.raw_erased);
        w.Key("nodes_checked").Uint(r.nodes_checked);
        w.Key("checkpoints").Uint(r.checkpoints);
        w.Key("tree_size").Uint(r.tree_size);
        w.Key("root").String(Base64Encode(crypto::AsBytes(r.root)));
        w.Key("key").String(r.key);
        w.Key("key_trusted").Bool(r.key_trusted);
        w.Key("problem_count").Uint(r.problem_count);
        if (r.first_bad_seq) {
          w.Key("first_bad_seq").Uint(*r.first_bad_seq);
        } else {
          w.Key("first_bad_seq").Null();
        }
        w.Key("problems").BeginArray();
        for (const auto& p : r.problems) {
          w.BeginObject();
          if (p.seq) {
            w.Key("seq").Uint(*p.seq);
          } else {
            w.Key("seq").Null();
          }
          w.Key("what").String(p.what);
          w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        std::printf("%s\n", w.str().c_str());
      } else {
        std::printf(
            "checked %llu events, %llu raw records (%llu erased), %llu tree nodes, "
            "%llu checkpoints\n",
            static_cast<unsigned long long>(r.events),
            static_cast<unsigned long long>(r.raw_checked),
            static_cast<unsigned long long>(r.raw_erased),
            static_cast<unsigned long long>(r.nodes_checked),
            static_cast<unsigned long long>(r.checkpoints));
        std::printf("key %s (%s)\n", r.key.c_str(),
                    r.key_trusted ? "trusted, given with --key"
                                  : "the store's own; pass --key to pin a key held elsewhere");
        if (r.ok()) {
          std::printf("OK: tree size %llu, root %s\n", static_cast<unsigned long long>(r.tree_size),
                      Base64Encode(crypto::AsBytes(r.root)).c_str());
        } else {
          std::printf("FAILED: %llu problem(s)", static_cast<unsigned long long>(r.problem_count));
          if (r.first_bad_seq) {
            std::printf("; first bad sequence number: %llu",
                        static_cast<unsigned long long>(*r.first_bad_seq));
          }
          std::printf("\n");
          for (const auto& p : r.problems) std::printf("  %s\n", p.what.c_str());
          if (r.problem_count > r.problems.size()) {
            std::printf("  ... and %llu more\n",
                        static_cast<unsigned long long>(r.problem_count - r.problems.size()));
          }
        }
      }
      *exit_code = r.ok() ? kExitOk : kExitVerifyFailed;
    });
  }
}

}  // namespace nhitrace::cli
