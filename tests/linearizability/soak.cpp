// mantis-linearizability: runs the register workload (engine_workload.hpp) on an Engine for as many
// operations as asked, checks each round with RegisterChecker, and prints the counts. The long runs
// behind docs/DESIGN.md's coherence claims; tests/linearizability_test.cpp runs short ones in CI.
//
//   mantis-linearizability --config off|on|tiny|durable [--threads N] [--keys N]
//                          [--ops N] [--sequential-gets] [--conditional PERCENT] [--versioned]
//                          [--transactions PERCENT] [--dir PATH]
//
// Exits 0 when every round is linearizable and no read was torn, 1 otherwise, 2 on bad arguments.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "engine_workload.hpp"

namespace {

int usage(const char* problem) {
  std::fprintf(stderr,
               "mantis-linearizability: %s\n"
               "usage: mantis-linearizability --config off|on|tiny|durable [--threads N] [--keys N]\n"
               "                              [--ops N] [--sequential-gets] [--conditional PERCENT] [--versioned]\n"
               "                              [--transactions PERCENT] [--dir PATH]\n",
               problem);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mantis::test;
  const EngineConfig* config = nullptr;
  RegisterWorkload workload;
  std::uint64_t total_ops = 10'000'000;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "mantis-linearizability";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    auto number = [&](std::uint64_t* out) {
      if (value == nullptr) return false;
      char* end = nullptr;
      *out = std::strtoull(value, &end, 10);
      ++i;
      return end != value && *end == '\0' && *out > 0;
    };
    std::uint64_t n = 0;
    if (arg == "--config" && value != nullptr) {
      const std::string name = argv[++i];
      if (name == "off") config = &kTierOff;
      if (name == "on") config = &kTierOn;
      if (name == "tiny") config = &kTierTiny;
      if (name == "durable") config = &kDurableAsync;
      if (config == nullptr) return usage("--config takes off, on (a 64 MiB tier), tiny (4 KiB) or durable");
    } else if (arg == "--threads") {
      if (!number(&n) || n > RegisterChecker::kMaxThreads) return usage("--threads takes 1..64");
      workload.threads = n;
    } else if (arg == "--keys") {
      if (!number(&n)) return usage("--keys takes a positive number");
      workload.keys = n;
    } else if (arg == "--ops") {
      if (!number(&n)) return usage("--ops takes a positive number");
      total_ops = n;
    } else if (arg == "--conditional") {
      // Taken from the gets: puts and erases keep their shares.
      if (!number(&n) || n > 100 - workload.put_percent - workload.erase_percent) {
        return usage("--conditional takes 1..50 (percent of operations that are conditional writes)");
      }
      workload.conditional_percent = static_cast<unsigned>(n);
    } else if (arg == "--transactions") {
      // Taken from the gets too; implies --versioned.
      if (!number(&n) || n > 100 - workload.put_percent - workload.erase_percent - workload.conditional_percent) {
        return usage("--transactions takes a percent that leaves room for the other operations");
      }
      workload.transaction_percent = static_cast<unsigned>(n);
      workload.versioned = true;
    } else if (arg == "--versioned") {
      workload.versioned = true;
    } else if (arg == "--sequential-gets") {
      workload.sequential_gets = true;
    } else if (arg == "--dir" && value != nullptr) {
      dir = argv[++i];
    } else {
      return usage(("unknown argument " + arg).c_str());
    }
  }
  if (config == nullptr) return usage("--config is required");

  std::error_code ignored;
  if (config->durable) std::filesystem::remove_all(dir, ignored);
  std::unique_ptr<mantis::Engine> engine;
  const mantis::Status s = mantis::Engine::open(options_for(*config, dir), &engine);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.to_string().c_str());
    return 1;
  }

  RegisterChecker checker;
  std::uint64_t torn = 0;
  std::uint64_t errors = 0;
  const auto start = now_ns();
  for (std::uint64_t round = 1; checker.operations() < total_ops; ++round) {
    const RoundResult result = run_register_round(*engine, workload, round);
    torn += result.torn;
    errors += result.errors;
    checker.check(result.ops);
    if (round % 10 == 0 || checker.operations() >= total_ops) {
      std::printf("%s, %zu threads, %zu keys%s%s: %llu ops, %llu violations, %llu torn, %llu errors (%.0f s)\n",
                  config->name, workload.threads, workload.keys, workload.sequential_gets ? ", sequential gets" : "",
                  workload.versioned ? ", snapshots alive" : "",
                  static_cast<unsigned long long>(checker.operations()),
                  static_cast<unsigned long long>(checker.violations()), static_cast<unsigned long long>(torn),
                  static_cast<unsigned long long>(errors), static_cast<double>(now_ns() - start) / 1e9);
      std::fflush(stdout);
    }
  }
  for (const std::string& report : checker.reports()) std::printf("  %s\n", report.c_str());
  engine.reset();
  if (config->durable) std::filesystem::remove_all(dir, ignored);
  return checker.violations() == 0 && torn == 0 && errors == 0 ? 0 : 1;
}
