// The text format of `mantis-tool dump` / `load` (tools/mantis-tool/dump_format.hpp): every byte
// round-trips, lines never contain raw separators or control bytes, and malformed lines are refused
// with a reason.
#include <catch2/catch.hpp>

#include <string>

#include "dump_format.hpp"

using mantis::tool::DumpEntry;
using mantis::tool::escape;
using mantis::tool::format_line;
using mantis::tool::parse_line;
using namespace std::chrono_literals;

namespace {
std::string without_newline(std::string line) {
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  line.pop_back();
  return line;
}
}  // namespace

TEST_CASE("dump format: every byte value round-trips through a line", "[tool]") {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  for (const std::string& key : {std::string(), all_bytes, std::string("a\0b", 3), std::string("plain key")}) {
    for (const std::string& value : {std::string(), all_bytes, std::string("\\x41"), std::string("tab\there")}) {
      const std::string line = without_newline(format_line(key, value, std::nullopt));
      for (char c : line) {
        const auto u = static_cast<unsigned char>(c);
        REQUIRE(((u >= 0x20 && u <= 0x7e) || u == '\t'));
      }
      DumpEntry entry;
      const auto why = parse_line(line, &entry);
      INFO(line);
      REQUIRE_FALSE(why.has_value());
      REQUIRE(entry.key == key);
      REQUIRE(entry.value == value);
      REQUIRE_FALSE(entry.ttl.has_value());
    }
  }
}

TEST_CASE("dump format: the exact spelling of escapes and ttls", "[tool]") {
  REQUIRE(escape(std::string("a\\b\tc\n\0\x7f\xff ~", 11)) == "a\\\\b\\x09c\\x0a\\x00\\x7f\\xff ~");
  REQUIRE(format_line("k", "v", 1500ms) == "k\tv\t1500\n");
  REQUIRE(format_line("", "", std::nullopt) == "\t\t-\n");
  DumpEntry entry;
  REQUIRE(parse_line("K\\X41\tv\t42", &entry).has_value());  // \X is not an escape
}

TEST_CASE("dump format: malformed lines are refused with a reason", "[tool]") {
  DumpEntry entry;
  for (const std::string line : {"", "k", "k\tv", "k\tv\t-\textra", "k\\q\tv\t-", "k\\x4\tv\t-", "k\\\tv\t-",
                                 "k\tv\r\t-", "k\tv\t0", "k\tv\t-5", "k\tv\tsoon", "k\tv\t", "k\x01\tv\t-"}) {
    INFO("line '" << line << "'");
    REQUIRE(parse_line(line, &entry).has_value());
  }
  REQUIRE_FALSE(parse_line("k\\x4A\tv\xc3\xa9\t7", &entry).has_value());  // uppercase hex, raw UTF-8
  REQUIRE(entry.key == "kJ");
  REQUIRE(entry.value == "v\xc3\xa9");
  REQUIRE(entry.ttl == 7ms);
}
