// mantis-tool: inspect and edit a mantis data directory from the command line.
//
// Every command opens the directory through the public Engine API, like any application: it takes
// the directory's lock (a directory held by a running engine gives Busy), recovers it the same way
// (a torn log tail left by a crash is truncated, as any open would), and repairs nothing silently.
// Errors print the Status text on stderr; exit status 0 success, 1 error, 2 bad usage.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/engine.hpp>

#include "durability.hpp"
#include "tool_commands.hpp"

namespace fs = std::filesystem;
using mantis::Engine;
using mantis::Options;
using mantis::Status;
using mantis::WriteBatch;
using mantis::WriteOptions;

namespace {

constexpr int kExitUsage = 2;

constexpr const char* kHelp = R"(usage: mantis-tool COMMAND DIR [ARGS] [OPTIONS]

Commands (DIR must hold a database, except for load, which creates it if missing):
  stats DIR                     the engine's statistics as JSON, with size() and the directory's files
  verify DIR                    open the database, iterate every key and read every value; prints
                                "ok: N keys, B bytes" and exits 0 if everything is readable, else
                                prints the error (Corruption names the file and offset) and exits 1
  dump DIR [--prefix P]         every live key (or those starting with P) in key order, one line each
  load DIR                      read dump lines from stdin and write them, in batches of 1000
  checkpoint DIR                write a snapshot now
  get DIR KEY                   print KEY's value as raw bytes, then a newline (NotFound: exit 1)
  put DIR KEY VALUE [--ttl MS]  set KEY to VALUE, optionally expiring in MS milliseconds
  del DIR KEY                   remove KEY (no error if absent)

Options:
  --durability none|async|sync|periodic   how the engine is opened (default async); put, del and
                                load then sync the log before they exit (with none: checkpoint)
  --                            end of options (for keys or values that start with "--")
  -h, --help                    this text

Keys and values on the command line are raw strings. The dump format, which load reads back exactly:
  <key> TAB <value> TAB <ttl> LF
key and value are escaped: bytes 0x20..0x7e stand for themselves except the backslash, written \\;
every other byte (TAB, LF, CR, NUL, 0x7f, 0x80..0xff) is \xNN with two lowercase hex digits. ttl is
the time to live left when the dump was taken, in milliseconds, or - for none; load applies it from
the moment it loads. An empty key or value is an empty field. load stops at the first malformed line
(naming it): every line before it is written, nothing after it.

Exit status: 0 success, 1 error (the Status text is on stderr), 2 bad usage.
)";

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr, "mantis-tool: %s\n(try mantis-tool --help)\n", message.c_str());
  std::exit(kExitUsage);
}

struct Command {
  std::string name;
  std::vector<std::string> positional;  // after the command name: DIR, then the command's arguments
  std::optional<std::string> prefix;
  std::optional<long long> ttl_ms;
  mantis::Durability durability = mantis::Durability::kAsync;
};

Command parse(int argc, char** argv) {
  Command command;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (!options_done && (arg == "-h" || arg == "--help")) {
      std::fputs(kHelp, stdout);
      std::exit(0);
    } else if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && arg == "--prefix") {
      command.prefix = value();
    } else if (!options_done && arg == "--ttl") {
      const std::string text = value();
      char* end = nullptr;
      const long long ms = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || ms <= 0)
        usage("--ttl needs a positive number of milliseconds, got '" + text + "'");
      command.ttl_ms = ms;
    } else if (!options_done && arg == "--durability") {
      const std::string mode = value();
      const std::optional<mantis::Durability> durability = mantis::tools::parse_durability(mode);
      if (!durability) usage("--durability must be none, async, sync or periodic, not '" + mode + "'");
      command.durability = *durability;
    } else if (!options_done && arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      usage("unknown option '" + arg + "'");
    } else if (command.name.empty()) {
      command.name = arg;
    } else {
      command.positional.push_back(arg);
    }
  }
  if (command.name.empty()) usage("no command");
  struct Shape {
    const char* name;
    std::size_t arguments;  // after DIR
    bool prefix, ttl;
  };
  static constexpr Shape kShapes[] = {
      {"stats", 0, false, false},      {"verify", 0, false, false}, {"dump", 0, true, false}, {"load", 0, false, false},
      {"checkpoint", 0, false, false}, {"get", 1, false, false},    {"put", 2, false, true},  {"del", 1, false, false}};
  for (const Shape& shape : kShapes) {
    if (command.name != shape.name) continue;
    if (command.positional.empty()) usage(command.name + " needs a data directory");
    if (command.positional.size() != shape.arguments + 1) {
      usage(command.name + " takes " + std::to_string(shape.arguments) + " argument(s) after DIR, got " +
            std::to_string(command.positional.size() - 1));
    }
    if (command.prefix && !shape.prefix) usage("--prefix applies to dump only");
    if (command.ttl_ms && !shape.ttl) usage("--ttl applies to put only");
    if (command.positional[0].empty()) usage("DIR must not be empty");
    return command;
  }
  usage("unknown command '" + command.name + "'");
}

int fail(const Status& s) { return mantis::tool::fail(s, mantis::tool::Streams{}); }

// Makes what this command wrote durable before the tool exits: a sync of the log, or, without a log
// (kNone), a snapshot.
Status make_durable(const Command& command, Engine& engine) {
  return command.durability == mantis::Durability::kNone ? engine.checkpoint() : engine.sync();
}

// Opens DIR. Only load may create a database; every other command needs one.
Status open(const Command& command, std::unique_ptr<Engine>* engine) {
  Options options;
  options.dir = command.positional[0];
  options.durability = command.durability;
  options.create_if_missing = command.name == "load";
  return Engine::open(options, engine);
}

int run(const Command& command) {
  namespace tool = mantis::tool;
  const tool::Streams io;
  std::unique_ptr<Engine> engine;
  if (Status s = open(command, &engine); !s.ok()) return fail(s);
  const std::string& name = command.name;
  const auto& args = command.positional;
  if (name == "stats") return tool::stats(*engine, args[0], io);
  if (name == "verify") return tool::verify(*engine, io);
  if (name == "dump") return tool::dump(*engine, command.prefix.value_or(""), io);
  if (name == "get") return tool::get(*engine, args[1], io);
  if (name == "checkpoint") {
    const Status s = engine->checkpoint();
    return s.ok() ? 0 : fail(s);
  }
  int status = 0;
  if (name == "load") {
    status = tool::load(*engine, io);
  } else if (name == "put") {
    const Status s =
        engine->put(args[1], args[2], WriteOptions{.ttl = std::chrono::milliseconds(command.ttl_ms.value_or(0))});
    if (!s.ok()) return fail(s);
  } else if (name == "del") {
    if (Status s = engine->erase(args[1]); !s.ok()) return fail(s);
  }
  // What load wrote before a malformed line is made durable too.
  if (Status s = make_durable(command, *engine); !s.ok()) return fail(s);
  return status;
}

}  // namespace

int main(int argc, char** argv) { return run(parse(argc, argv)); }
