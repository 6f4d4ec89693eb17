// mantis-tool: inspect and edit a mantis data directory from the command line.
//
// Every command opens the directory through the public Engine API, like any application: it takes
// the directory's lock (a directory held by a running engine gives Busy), recovers it the same way
// (a torn log tail left by a crash is truncated, as any open would), and repairs nothing silently.
// Errors print the Status text on stderr; exit status 0 success, 1 error, 2 bad usage.
#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <mantis/engine.hpp>

#include "cli.hpp"
#include "durability.hpp"
#include "tool_commands.hpp"

using mantis::Engine;
using mantis::Options;
using mantis::Status;
using mantis::WriteOptions;

namespace {

constexpr const char* kFooter = R"(
Keys and values on the command line are raw strings; put `--` before one that starts with "-".
The dump format, which load reads back exactly:
  <key> TAB <value> TAB <ttl> LF
key and value are escaped: bytes 0x20..0x7e stand for themselves except the backslash, written \\;
every other byte (TAB, LF, CR, NUL, 0x7f, 0x80..0xff) is \xNN with two lowercase hex digits. ttl is
the time to live left when the dump was taken, in milliseconds, or - for none; load applies it from
the moment it loads. An empty key or value is an empty field. load stops at the first malformed line
(naming it): every line before it is written, nothing after it.

Exit status: 0 success, 1 error (the Status text is on stderr), 2 bad usage.)";

struct Command {
  std::string name;
  std::vector<std::string> positional;  // DIR, then the command's arguments
  std::optional<std::string> prefix;
  std::optional<long long> ttl_ms;
  mantis::Durability durability = mantis::Durability::kAsync;
};

// Parses argv into *command; nullopt to go on, else the exit status (the text already printed).
std::optional<int> parse(int argc, char** argv, Command* command) {
  CLI::App app{"mantis-tool: inspect and edit a mantis data directory.", "mantis-tool"};
  app.footer(kFooter);
  app.require_subcommand(0, 1);  // at most one command: later words that name one are its arguments
  app.fallthrough();             // --durability may follow the command's arguments
  std::string durability = "async";
  mantis::tools::add_durability_option(
      app, &durability,
      "How the engine is opened; put, del and load then sync the log before they exit (with none: checkpoint)")
      ->capture_default_str();
  struct Shape {
    const char* name;
    const char* help;
    std::vector<const char*> arguments;  // after DIR
  };
  std::array<std::string, 3> slots;  // DIR and up to two arguments, of the one command given
  const Shape shapes[] = {
      {"stats", "The engine's statistics as JSON, with size() and the directory's files", {}},
      {"verify",
       "Open the database, iterate every key and read every value; prints \"ok: N keys, B bytes\" and exits 0 if "
       "everything is readable, else prints the error (Corruption names the file and offset) and exits 1",
       {}},
      {"dump", "Every live key (or those starting with --prefix) in key order, one line each", {}},
      {"load", "Read dump lines from stdin and write them, in batches of 1000 (creates DIR if missing)", {}},
      {"checkpoint", "Write a snapshot now", {}},
      {"backup", "Write a consistent copy of DIR into TARGET (new or empty); it opens as a data directory", {"TARGET"}},
      {"restore",
       "Copy the backup in DIR into the data directory TARGET (new or empty): a backup of the backup",
       {"TARGET"}},
      {"get", "Print KEY's value as raw bytes, then a newline (NotFound: exit 1)", {"KEY"}},
      {"put", "Set KEY to VALUE, optionally expiring in --ttl milliseconds", {"KEY", "VALUE"}},
      {"del", "Remove KEY (no error if absent)", {"KEY"}},
  };
  for (const Shape& shape : shapes) {
    CLI::App* sub = app.add_subcommand(shape.name, shape.help);
    sub->add_option("DIR", slots[0], "The data directory")->required();
    for (std::size_t k = 0; k < shape.arguments.size(); ++k) {
      sub->add_option(shape.arguments[k], slots[k + 1])->required();
    }
    if (std::string_view(shape.name) == "dump") {
      sub->add_option("--prefix", command->prefix, "Only the keys that start with P")->type_name("P");
    }
    if (std::string_view(shape.name) == "put") {
      sub->add_option("--ttl", command->ttl_ms, "Expire the key in MS milliseconds")
          ->type_name("MS")
          ->check(CLI::PositiveNumber);
    }
    sub->callback([command, sub, &slots, count = shape.arguments.size() + 1] {
      command->name = sub->get_name();
      command->positional.assign(slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(count));
    });
  }
  if (const std::optional<int> status = mantis::tools::parse_command_line(app, argc, argv)) return status;
  if (command->name.empty()) {
    return mantis::tools::usage_error(
        app, "no command (stats, verify, dump, load, checkpoint, backup, restore, get, put or del)");
  }
  if (command->positional[0].empty()) return mantis::tools::usage_error(app, "DIR must not be empty");
  command->durability = mantis::tools::parse_durability(durability).value_or(mantis::Durability::kAsync);
  return std::nullopt;
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
  if (name == "backup" || name == "restore") {
    const Status s = engine->backup(args[1]);
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

int main(int argc, char** argv) {
  Command command;
  if (const std::optional<int> status = parse(argc, argv, &command)) return *status;
  return run(command);
}
