// mantis-tool's commands (mantis_tool_core, tools/mantis-tool/tool_commands.hpp) run in-process against memory-only
// engines: dump and load round-trip every byte and TTLs, verify counts, stats is one JSON object,
// load names a malformed line, get prints raw bytes. tools/mantis-tool/tool_test.sh runs the
// executable on real data directories.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_util.hpp"
#include "tool_commands.hpp"

using mantis::Engine;
using mantis::WriteOptions;
using mantis::test::open_engine;
using mantis::test::value_of;
using namespace std::chrono_literals;

namespace {

// A command's streams: input from a string, output and errors captured.
class Captured {
 public:
  explicit Captured(const std::string& input = {}) {
    io_.in = std::tmpfile();
    io_.out = std::tmpfile();
    io_.err = std::tmpfile();
    REQUIRE(io_.in != nullptr);
    REQUIRE(io_.out != nullptr);
    REQUIRE(io_.err != nullptr);
    REQUIRE(std::fwrite(input.data(), 1, input.size(), io_.in) == input.size());
    std::rewind(io_.in);
  }
  Captured(const Captured&) = delete;
  Captured& operator=(const Captured&) = delete;
  ~Captured() {
    std::fclose(io_.in);
    std::fclose(io_.out);
    std::fclose(io_.err);
  }
  const mantis::tool::Streams& io() const { return io_; }
  std::string out() const { return read_all(io_.out); }
  std::string err() const { return read_all(io_.err); }

 private:
  static std::string read_all(std::FILE* file) {
    std::fflush(file);
    std::rewind(file);
    std::string text;
    char chunk[4096];
    std::size_t got;
    while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, got);
    return text;
  }
  mantis::tool::Streams io_;
};

std::string field(const std::string& line, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = line.find('\t', start) + 1;
  return line.substr(start, line.find('\t', start) - start);
}

}  // namespace

TEST_CASE("mantis-tool: dump then load reproduces every key, value and ttl", "[tool]") {
  auto source = open_engine();
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  REQUIRE(source->put("", "empty key").ok());
  REQUIRE(source->put(all_bytes, all_bytes).ok());
  REQUIRE(source->put("empty value", "").ok());
  REQUIRE(source->put("ttl", "expires", WriteOptions{.ttl = 1h}).ok());
  for (int i = 0; i < 2500; ++i) REQUIRE(source->put("bulk:" + std::to_string(i), std::to_string(i * i)).ok());

  Captured dumped;
  REQUIRE(mantis::tool::dump(*source, "", dumped.io()) == 0);
  const std::string text = dumped.out();
  REQUIRE(std::count(text.begin(), text.end(), '\n') == 2504);

  auto target = open_engine();
  Captured loaded(text);
  REQUIRE(mantis::tool::load(*target, loaded.io()) == 0);
  REQUIRE(loaded.out() == "loaded 2504 keys\n");
  REQUIRE(target->size() == 2504);
  REQUIRE(value_of(*target, "") == "empty key");
  REQUIRE(value_of(*target, all_bytes) == all_bytes);
  REQUIRE(value_of(*target, "empty value").empty());
  REQUIRE(value_of(*target, "bulk:2499") == std::to_string(2499 * 2499));
  std::optional<std::chrono::milliseconds> remaining;
  REQUIRE(target->ttl("ttl", &remaining).ok());
  REQUIRE(remaining.has_value());
  REQUIRE(*remaining <= 1h);
  REQUIRE(*remaining > 1h - 1min);
  REQUIRE(target->ttl("bulk:7", &remaining).ok());
  REQUIRE_FALSE(remaining.has_value());

  // The second dump equals the first, but for the ttl counting down.
  Captured again;
  REQUIRE(mantis::tool::dump(*target, "", again.io()) == 0);
  std::istringstream first(text), second(again.out());
  std::string a, b;
  while (std::getline(first, a)) {
    REQUIRE(std::getline(second, b));
    REQUIRE(field(a, 0) == field(b, 0));
    REQUIRE(field(a, 1) == field(b, 1));
    REQUIRE((field(a, 2) == "-") == (field(b, 2) == "-"));
  }
  REQUIRE_FALSE(std::getline(second, b));
}

TEST_CASE("mantis-tool: dump --prefix lists exactly the keys with the prefix, in order", "[tool]") {
  auto db = open_engine();
  for (const char* key : {"user", "user:2", "user:1", "users", "usea", "v"}) REQUIRE(db->put(key, "x").ok());
  Captured dumped;
  REQUIRE(mantis::tool::dump(*db, "user:", dumped.io()) == 0);
  REQUIRE(dumped.out() == "user:1\tx\t-\nuser:2\tx\t-\n");
}

TEST_CASE("mantis-tool: load stops at a malformed line, naming it, after writing the lines before it", "[tool]") {
  auto db = open_engine();
  Captured loaded("a\t1\t-\nb\t2\t-\nbroken line\nc\t3\t-\n");
  REQUIRE(mantis::tool::load(*db, loaded.io()) == 1);
  REQUIRE(loaded.err().find("line 3") != std::string::npos);
  REQUIRE(value_of(*db, "a") == "1");
  REQUIRE(value_of(*db, "b") == "2");
  REQUIRE(value_of(*db, "c") == "<absent>");
}

TEST_CASE("mantis-tool: load accepts a last line without a newline and empty input", "[tool]") {
  auto db = open_engine();
  Captured last("k\\x00\tv\t-");
  REQUIRE(mantis::tool::load(*db, last.io()) == 0);
  REQUIRE(value_of(*db, std::string("k\0", 2)) == "v");
  Captured empty;
  REQUIRE(mantis::tool::load(*db, empty.io()) == 0);
  REQUIRE(empty.out() == "loaded 0 keys\n");
}

TEST_CASE("mantis-tool: verify counts keys and bytes; get prints raw bytes or NotFound", "[tool]") {
  auto db = open_engine();
  REQUIRE(db->put("k1", std::string("a\0b", 3)).ok());
  REQUIRE(db->put("k2", "cd").ok());
  Captured verified;
  REQUIRE(mantis::tool::verify(*db, verified.io()) == 0);
  REQUIRE(verified.out() == "ok: 2 keys, 9 bytes of keys and values\n");
  Captured got;
  REQUIRE(mantis::tool::get(*db, "k1", got.io()) == 0);
  REQUIRE(got.out() == std::string("a\0b\n", 4));
  Captured missing;
  REQUIRE(mantis::tool::get(*db, "nope", missing.io()) == 1);
  REQUIRE(missing.err().rfind("NotFound", 0) == 0);
  REQUIRE(missing.out().empty());
}

TEST_CASE("mantis-tool: stats is one JSON object with the engine's counters and the directory's files", "[tool]") {
  const auto dir = std::filesystem::temp_directory_path() / ("mantis-tool-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "wal");
  std::ofstream(dir / "wal" / "000001.log") << "12345";
  std::ofstream(dir / "MANIFEST") << "1";
  auto db = open_engine();
  REQUIRE(db->put("k", "v").ok());
  Captured out;
  const int status = mantis::tool::stats(*db, dir, out.io());
  std::filesystem::remove_all(dir);
  REQUIRE(status == 0);
  const std::string json = out.out();
  INFO(json);
  REQUIRE(json.rfind("{\"dir\":", 0) == 0);
  REQUIRE(json.find("\"size\":1,") != std::string::npos);
  REQUIRE(json.find("\"engine\":{\"keys\":1") != std::string::npos);
  REQUIRE(json.find("{\"name\":\"MANIFEST\",\"bytes\":1},{\"name\":\"wal/000001.log\",\"bytes\":5}") !=
          std::string::npos);
  REQUIRE(json.find("\"file_bytes\":6}") != std::string::npos);
  REQUIRE(json.back() == '\n');
}
