// The RESP2 request parser: complete and split requests, pipelining, inline commands, limits and
// every protocol error; and the glob patterns SCAN and KEYS use, and the key ranges they scan.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/engine.hpp>

#include "commands.hpp"
#include "glob.hpp"
#include "resp_parser.hpp"
#include "server_state.hpp"

using mantis::server::RespLimits;
using mantis::server::RespParser;
using Result = RespParser::Result;

namespace {

std::vector<std::string> args_of(const RespParser& parser) { return {parser.args().begin(), parser.args().end()}; }

// Feeds `input` one byte at a time, dropping consumed bytes as a connection does; returns every
// request parsed, or stops at an error (then *error holds it).
std::vector<std::vector<std::string>> feed_bytewise(std::string_view input, const RespLimits& limits,
                                                    std::string* error = nullptr) {
  RespParser parser(limits);
  std::vector<std::vector<std::string>> requests;
  std::string buffer;
  for (const char c : input) {
    buffer.push_back(c);
    for (;;) {
      const Result r = parser.parse(buffer);
      if (r == Result::kError) {
        if (error) *error = parser.error();
        return requests;
      }
      if (r == Result::kCommand) requests.push_back({parser.args().begin(), parser.args().end()});
      buffer.erase(0, parser.consumed());  // after copying: the arguments point into the buffer
      if (r == Result::kNeedMore) break;
    }
  }
  return requests;
}

}  // namespace

TEST_CASE("a multibulk request parses into its arguments", "[resp_parser]") {
  RespParser parser(RespLimits{});
  const std::string input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n";
  REQUIRE(parser.parse(input) == Result::kCommand);
  CHECK(args_of(parser) == std::vector<std::string>{"SET", "k", "value"});
  CHECK(parser.consumed() == input.size());
}

TEST_CASE("bulk strings are binary-safe: NUL, CR, LF and empty", "[resp_parser]") {
  RespParser parser(RespLimits{});
  const std::string value("a\0b\r\nc", 6);
  const std::string input = "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$6\r\n" + value + "\r\n";
  REQUIRE(parser.parse(input) == Result::kCommand);
  CHECK(args_of(parser) == std::vector<std::string>{"SET", "", value});
}

TEST_CASE("a request split at every byte parses the same", "[resp_parser]") {
  const std::string input = "*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n";
  const auto requests = feed_bytewise(input, RespLimits{});
  REQUIRE(requests.size() == 3);
  CHECK(requests[0] == std::vector<std::string>{"GET", "0123456789"});
  CHECK(requests[1] == std::vector<std::string>{"PING"});
  CHECK(requests[2] == std::vector<std::string>{"QUIT"});
}

TEST_CASE("pipelined requests parse one after another from one buffer", "[resp_parser]") {
  RespParser parser(RespLimits{});
  std::string buffer;
  for (int i = 0; i < 100; ++i)
    buffer += "*2\r\n$3\r\nGET\r\n$" + std::to_string(std::to_string(i).size()) + "\r\n" + std::to_string(i) + "\r\n";
  buffer += "*2\r\n$3\r\nGET";  // a partial last one
  int parsed = 0;
  std::string_view rest = buffer;
  for (;;) {
    const Result r = parser.parse(rest);
    REQUIRE(r != Result::kError);
    if (r == Result::kNeedMore) break;
    CHECK(parser.args()[1] == std::to_string(parsed));
    ++parsed;
    rest.remove_prefix(parser.consumed());
  }
  CHECK(parsed == 100);
  rest.remove_prefix(parser.consumed());
  std::string tail(rest);
  tail += "\r\n$1\r\nx\r\n";
  REQUIRE(parser.parse(tail) == Result::kCommand);
  CHECK(args_of(parser) == std::vector<std::string>{"GET", "x"});
}

TEST_CASE("inline commands split on spaces; blank lines are skipped", "[resp_parser]") {
  const auto requests = feed_bytewise("\r\n\nPING\r\n  SET  a\tb \nGET a\n", RespLimits{});
  REQUIRE(requests.size() == 3);
  CHECK(requests[0] == std::vector<std::string>{"PING"});
  CHECK(requests[1] == std::vector<std::string>{"SET", "a", "b"});
  CHECK(requests[2] == std::vector<std::string>{"GET", "a"});
}

TEST_CASE("empty multibulks are skipped and their bytes handed back", "[resp_parser]") {
  RespParser parser(RespLimits{});
  REQUIRE(parser.parse("*0\r\n*-1\r\n") == Result::kNeedMore);
  CHECK(parser.consumed() == 9);
  REQUIRE(parser.parse("*0\r\n*1\r\n$4\r\nPING\r\n") == Result::kCommand);
  CHECK(parser.consumed() == 18);
  CHECK(args_of(parser) == std::vector<std::string>{"PING"});
}

TEST_CASE("a claimed bulk length allocates nothing until the bytes arrive", "[resp_parser]") {
  RespLimits limits;
  limits.max_bulk_bytes = std::size_t{512} << 20;
  RespParser parser(limits);
  // 500 MiB announced, 3 bytes sent: the parser waits; nothing proportional to the claim exists.
  REQUIRE(parser.parse("*2\r\n$3\r\nGET\r\n$524288000\r\nabc") == Result::kNeedMore);
  CHECK(parser.consumed() == 0);
}

TEST_CASE("a claimed arity is not reserved up front", "[resp_parser]") {
  RespLimits limits;
  limits.max_arity = 1u << 20;
  RespParser parser(limits);
  REQUIRE(parser.parse("*1000000\r\n$3\r\nDEL\r\n") == Result::kNeedMore);
  REQUIRE(parser.parse("*1000000\r\n$3\r\nDEL\r\n") == Result::kNeedMore);  // idempotent on the same bytes
}

TEST_CASE("every protocol error is reported, with Redis's text", "[resp_parser]") {
  RespLimits limits;
  limits.max_bulk_bytes = 1024;
  limits.max_arity = 8;
  limits.max_inline_bytes = 64;
  struct Case {
    std::string input;
    std::string error;
  };
  const Case cases[] = {
      {"*abc\r\n", "Protocol error: invalid multibulk length"},
      {"*9\r\n", "Protocol error: invalid multibulk length"},  // over max_arity
      {"*-\r\n", "Protocol error: invalid multibulk length"},
      {"*\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n$1025\r\n", "Protocol error: invalid bulk length"},  // over max_bulk_bytes
      {"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$99999999999999999999999\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$3x\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n:3\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n$3\r\nGETxx", "Protocol error: bulk string is not followed by CRLF"},
      {"*1\r\n$3\rX", "Protocol error: invalid bulk length"},
      {"*11111111111111111111111111111111111", "Protocol error: too big mbulk count string"},
      {"*1\r\n$11111111111111111111111111111111111", "Protocol error: too big bulk count string"},
      {std::string(65, 'A'), "Protocol error: too big inline request"},
      {std::string(100, 'A') + "\n", "Protocol error: too big inline request"},
      {std::string("*1\r\n\x01\xff", 6), "Protocol error: expected '$', got '?'"},
  };
  for (const Case& c : cases) {
    INFO("input: " << c.input);
    RespParser parser(limits);
    CHECK(parser.parse(c.input) == Result::kError);
    CHECK(parser.error() == c.error);
    std::string error;
    CHECK(feed_bytewise(c.input, limits, &error).empty());
    CHECK(error == c.error);
  }
}

TEST_CASE("limits at their exact values are accepted", "[resp_parser]") {
  RespLimits limits;
  limits.max_bulk_bytes = 4;
  limits.max_arity = 2;
  RespParser parser(limits);
  REQUIRE(parser.parse("*2\r\n$4\r\nECHO\r\n$4\r\nabcd\r\n") == Result::kCommand);
  CHECK(args_of(parser) == std::vector<std::string>{"ECHO", "abcd"});
}

TEST_CASE("glob patterns match like Redis's", "[glob]") {
  using mantis::server::glob_match;
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("user:*", "user:1"));
  CHECK_FALSE(glob_match("user:*", "use"));
  CHECK(glob_match("h?llo", "hello"));
  CHECK_FALSE(glob_match("h?llo", "hllo"));
  CHECK(glob_match("h[ae]llo", "hallo"));
  CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
  CHECK(glob_match("h[^e]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("h[a-b]llo", "hbllo"));
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("*a*b*c*", "xxaxxbxxcxx"));
  CHECK_FALSE(glob_match("*a*b*c*", "xxaxxcxxbxx"));
  CHECK(glob_match(std::string_view("k\0*", 3), std::string_view("k\0\xff", 3)));
  // No exponential blow-up on many stars against a long non-matching text.
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST_CASE("a pattern's literal prefix bounds the scanned range", "[glob]") {
  using namespace mantis::server;
  CHECK(glob_literal_prefix("user:*") == "user:");
  CHECK(glob_literal_prefix("a?c*") == "a");
  CHECK(glob_literal_prefix("\\*x*") == "*x");
  CHECK(glob_literal_prefix("*") == "");
  CHECK(glob_is_prefix_only("user:*"));
  CHECK(glob_is_prefix_only("*"));
  CHECK_FALSE(glob_is_prefix_only("user:*:x"));
  CHECK_FALSE(glob_is_prefix_only("a\\*"));
  CHECK_FALSE(glob_is_prefix_only("exact"));
}

// KEYS and SCAN scan exactly the keys that start with the pattern's literal prefix (the engine's
// prefix scan bounds the range), also where the prefix ends in 0xff bytes or is empty.
TEST_CASE("KEYS and SCAN bound their range by the literal prefix, 0xff bytes included", "[glob]") {
  using namespace mantis::server;
  std::unique_ptr<mantis::Engine> engine;
  REQUIRE(mantis::Engine::open(mantis::Options{}, &engine).ok());
  const std::string ff("\xff", 1);
  for (const std::string& key :
       {std::string("abc"), std::string("abd"), "a" + ff, "a" + ff + "x", std::string("b"), ff + ff, ff + ff + "z"}) {
    REQUIRE(engine->put(key, "v").ok());
  }
  ServerState state(*engine, 1);
  Commands commands(state, 0);
  ClientState client;
  auto reply = [&](std::vector<std::string_view> args) {
    std::string out;
    commands.execute(args, &out, &client);
    return out;
  };
  auto bulk = [](const std::string& key) { return "$" + std::to_string(key.size()) + "\r\n" + key + "\r\n"; };
  CHECK(reply({"KEYS", "abc*"}) == "*1\r\n" + bulk("abc"));
  const std::string a_ff = "a" + ff + "*";
  CHECK(reply({"KEYS", a_ff}) == "*2\r\n" + bulk("a" + ff) + bulk("a" + ff + "x"));
  const std::string ff_ff = ff + ff + "*";
  CHECK(reply({"KEYS", ff_ff}) == "*2\r\n" + bulk(ff + ff) + bulk(ff + ff + "z"));
  CHECK(reply({"KEYS", "*"}).starts_with("*7\r\n"));
  CHECK(reply({"SCAN", "0", "MATCH", a_ff}) == "*2\r\n$1\r\n0\r\n*2\r\n" + bulk("a" + ff) + bulk("a" + ff + "x"));
  // One key a page: the cursor resumes inside the prefix's range and the last page ends at its end.
  const std::string first = reply({"SCAN", "0", "MATCH", ff_ff, "COUNT", "1"});
  REQUIRE(first.find(bulk(ff + ff)) != std::string::npos);
  const std::size_t cursor_at = first.find("\r\n", 4) + 2;  // after "*2\r\n$N\r\n"
  const std::string cursor = first.substr(cursor_at, first.find("\r\n", cursor_at) - cursor_at);
  CHECK(reply({"SCAN", cursor, "MATCH", ff_ff, "COUNT", "1"}) == "*2\r\n$1\r\n0\r\n*1\r\n" + bulk(ff + ff + "z"));
}
