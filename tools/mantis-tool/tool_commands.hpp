// The bodies of mantis-tool's commands, over an open Engine and three streams, so that tests can run
// them in-process (tests/mantis_tool_test.cpp) as well as through the executable (tool_test.sh).
// Each returns the exit status: 0 success, 1 error (the Status text written to `err`).
// Opening the directory, parsing the command line and making writes durable is mantis_tool.cpp's part.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string_view>

#include <mantis/engine.hpp>

namespace mantis::tool {

constexpr int kExitError = 1;
constexpr std::size_t kLoadBatch = 1000;

struct Streams {
  std::FILE* in = stdin;
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

// Writes the Status text to io.err; returns kExitError.
int fail(const Status& s, const Streams& io);

// One JSON object: the directory, size(), the engine's Stats and the directory's files with sizes.
int stats(Engine& engine, const std::filesystem::path& dir, const Streams& io);

// Iterates every key and reads every value a second way (a point read must agree with the iterator,
// or find the key expired meanwhile). Prints "ok: N keys, B bytes of keys and values".
int verify(Engine& engine, const Streams& io);

// Every live key starting with `prefix`, in key order, one dump line each (dump_format.hpp).
int dump(Engine& engine, std::string_view prefix, const Streams& io);

// Reads dump lines from io.in and writes them in batches of kLoadBatch. Stops at the first malformed
// line, naming it: every line before it is written, nothing after. Prints "loaded N keys".
int load(Engine& engine, const Streams& io);

// The raw value, then a newline.
int get(Engine& engine, std::string_view key, const Streams& io);

}  // namespace mantis::tool
