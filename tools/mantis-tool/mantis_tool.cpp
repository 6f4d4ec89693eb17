// mantis-tool: inspect and edit a mantis data directory from the command line.
//
// Every command opens the directory through the public Engine API, like any application: it takes
// the directory's lock (a directory held by a running engine gives Busy), recovers it the same way
// (a torn log tail left by a crash is truncated, as any open would), and repairs nothing silently.
// Errors print the Status text on stderr; exit status 0 success, 1 error, 2 bad usage.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/engine.hpp>

#include "dump_format.hpp"

namespace fs = std::filesystem;
using mantis::Engine;
using mantis::Options;
using mantis::Status;
using mantis::WriteBatch;
using mantis::WriteOptions;

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr std::size_t kLoadBatch = 1000;

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
(naming it): the whole batches before that line are written, nothing after it.

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
      if (text.empty() || *end != '\0' || ms <= 0) usage("--ttl needs a positive number of milliseconds, got '" + text + "'");
      command.ttl_ms = ms;
    } else if (!options_done && arg == "--durability") {
      const std::string mode = value();
      if (mode == "none") command.durability = mantis::Durability::kNone;
      else if (mode == "async") command.durability = mantis::Durability::kAsync;
      else if (mode == "sync") command.durability = mantis::Durability::kSync;
      else if (mode == "periodic") command.durability = mantis::Durability::kPeriodic;
      else usage("--durability must be none, async, sync or periodic, not '" + mode + "'");
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
  static constexpr Shape kShapes[] = {{"stats", 0, false, false},      {"verify", 0, false, false},
                                      {"dump", 0, true, false},        {"load", 0, false, false},
                                      {"checkpoint", 0, false, false}, {"get", 1, false, false},
                                      {"put", 2, false, true},         {"del", 1, false, false}};
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

int fail(const Status& s) {
  std::fprintf(stderr, "%s\n", s.to_string().c_str());
  return kExitError;
}

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

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

int stats(const Command& command, Engine& engine) {
  const fs::path dir = command.positional[0];
  std::string files = "[";
  std::uintmax_t total = 0;
  std::error_code ec;
  std::vector<std::pair<std::string, std::uintmax_t>> listing;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::uintmax_t size = it->file_size(ec);
    if (ec) break;
    listing.emplace_back(fs::relative(it->path(), dir).string(), size);
  }
  if (ec) return fail(Status::io_error(dir.string() + ": listing the directory: " + ec.message()));
  std::sort(listing.begin(), listing.end());
  for (const auto& [name, size] : listing) {
    if (files.size() > 1) files += ",";
    files += "{\"name\":" + json_string(name) + ",\"bytes\":" + std::to_string(size) + "}";
    total += size;
  }
  files += "]";
  std::printf("{\"dir\":%s,\"size\":%zu,\"engine\":%s,\"files\":%s,\"file_bytes\":%ju}\n",
              json_string(dir.string()).c_str(), engine.size(), engine.stats().to_json().c_str(), files.c_str(), total);
  return 0;
}

int verify(Engine& engine) {
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;
  std::string value;
  auto it = engine.new_iterator();
  for (it->seek_to_first(); it->valid(); it->next()) {
    ++keys;
    bytes += it->key().size() + it->value().size();
    // Read every value a second way: a point read must agree with the iterator (or find the key
    // expired meanwhile).
    const Status s = engine.get(it->key(), &value);
    if (s.is_not_found()) continue;
    if (!s.ok()) return fail(s);
    if (value != it->value()) {
      return fail(Status::corruption("key '" + mantis::tool::escape(it->key()) +
                                     "': the iterator and a point read return different values"));
    }
  }
  if (!it->status().ok()) return fail(it->status());
  std::printf("ok: %llu keys, %llu bytes of keys and values\n", static_cast<unsigned long long>(keys),
              static_cast<unsigned long long>(bytes));
  return 0;
}

int dump(const Command& command, Engine& engine) {
  const std::string prefix = command.prefix.value_or("");
  auto it = engine.new_iterator();
  std::string out;
  for (it->seek(prefix); it->valid() && it->key().substr(0, prefix.size()) == prefix; it->next()) {
    std::optional<std::chrono::milliseconds> remaining;
    const Status s = engine.ttl(it->key(), &remaining);
    if (s.is_not_found()) continue;  // expired since the iterator saw it
    if (!s.ok()) return fail(s);
    out += mantis::tool::format_line(it->key(), it->value(), remaining);
    if (out.size() >= (1u << 16)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  if (!it->status().ok()) return fail(it->status());
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return fail(Status::io_error("stdout: write failed"));
  return 0;
}

int load(const Command& command, Engine& engine) {
  WriteBatch batch;
  std::uint64_t loaded = 0;
  std::uint64_t line_number = 0;
  std::string line;
  mantis::tool::DumpEntry entry;
  auto flush = [&]() -> Status {
    if (batch.count() == 0) return Status::ok_status();
    Status s = engine.write(batch);
    if (s.ok()) loaded += batch.count();
    batch.clear();
    return s;
  };
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (auto why = mantis::tool::parse_line(line, &entry)) {
      const Status written = flush();
      std::fprintf(stderr, "mantis-tool load: stdin line %llu: %s; %llu keys before it were loaded\n",
                   static_cast<unsigned long long>(line_number), why->c_str(), static_cast<unsigned long long>(loaded));
      if (!written.ok()) return fail(written);
      return kExitError;
    }
    batch.put(entry.key, entry.value, entry.ttl.value_or(std::chrono::milliseconds(0)));
    if (batch.count() >= kLoadBatch) {
      if (Status s = flush(); !s.ok()) return fail(s);
    }
  }
  if (std::cin.bad()) return fail(Status::io_error("stdin: read failed"));
  if (Status s = flush(); !s.ok()) return fail(s);
  if (Status s = make_durable(command, engine); !s.ok()) return fail(s);
  std::printf("loaded %llu keys\n", static_cast<unsigned long long>(loaded));
  return 0;
}

int run(const Command& command) {
  std::unique_ptr<Engine> engine;
  if (Status s = open(command, &engine); !s.ok()) return fail(s);
  const std::string& name = command.name;
  const auto& args = command.positional;
  const WriteOptions write_options{.ttl = std::chrono::milliseconds(command.ttl_ms.value_or(0))};
  if (name == "stats") return stats(command, *engine);
  if (name == "verify") return verify(*engine);
  if (name == "dump") return dump(command, *engine);
  if (name == "load") return load(command, *engine);
  if (name == "checkpoint") {
    if (Status s = engine->checkpoint(); !s.ok()) return fail(s);
    return 0;
  }
  if (name == "get") {
    std::string value;
    if (Status s = engine->get(args[1], &value); !s.ok()) return fail(s);
    value += '\n';
    std::fwrite(value.data(), 1, value.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : fail(Status::io_error("stdout: write failed"));
  }
  if (name == "put") {
    if (Status s = engine->put(args[1], args[2], write_options); !s.ok()) return fail(s);
    if (Status s = make_durable(command, *engine); !s.ok()) return fail(s);
    return 0;
  }
  if (name == "del") {
    if (Status s = engine->erase(args[1]); !s.ok()) return fail(s);
    if (Status s = make_durable(command, *engine); !s.ok()) return fail(s);
    return 0;
  }
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) { return run(parse(argc, argv)); }
