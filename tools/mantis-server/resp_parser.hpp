// RespParser: an incremental parser of RESP2 requests (the Redis protocol) with limits.
//
// A request is a multibulk ("*<n>\r\n" then n bulk strings "$<len>\r\n<bytes>\r\n") or an inline
// command (words separated by spaces, ended by "\n"), as redis-cli, redis-benchmark and telnet send
// them. The parser keeps its position between calls, so a request that arrives in many pieces is
// scanned once, however slowly it comes. It never allocates in proportion to a length the peer
// claims: a bulk string is only counted until its bytes are all buffered, and the argument list grows
// one argument at a time as arguments arrive. Limits (bulk length, arity, inline length) turn into a
// protocol error, after which the caller replies with error() and closes the connection.
//
// One parser per connection; not thread-safe. After kCommand the views in args() point into the
// caller's buffer and stay valid until the caller changes those bytes or calls parse() again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mantis::server {

struct RespLimits {
  // Default: 512 MiB (Redis's proto-max-bulk-len). Longer bulk strings are a protocol error.
  std::size_t max_bulk_bytes = std::size_t{512} << 20;
  // Default: 1048576 (Redis's limit). More arguments in one multibulk are a protocol error.
  std::size_t max_arity = std::size_t{1} << 20;
  // Default: 64 KiB (Redis's PROTO_INLINE_MAX_SIZE). A longer inline line is a protocol error.
  std::size_t max_inline_bytes = std::size_t{64} << 10;
};

class RespParser {
 public:
  enum class Result {
    kCommand,   // a complete request: args() and consumed() describe it
    kNeedMore,  // the buffered bytes end inside a request; call again with the same bytes and more
    kError,     // a protocol error: error() says what; the connection must be closed
  };

  explicit RespParser(const RespLimits& limits) : limits_(limits) {}
  RespParser(const RespParser&) = delete;
  RespParser& operator=(const RespParser&) = delete;

  // `input` is every byte the caller holds that no earlier call consumed: the bytes passed to the
  // previous call, minus its consumed(), followed by those that arrived since. After kCommand and
  // after kNeedMore the caller drops consumed() bytes from the front of its buffer (after kNeedMore
  // these are empty requests, e.g. blank inline lines, which are skipped).
  Result parse(std::string_view input);

  // After kCommand: the arguments, args()[0] being the command name. Never empty.
  const std::vector<std::string_view>& args() const noexcept { return args_; }
  // After kCommand: the bytes of `input` the request (and any empty requests before it) took.
  // After kNeedMore: the bytes of skipped empty requests before the incomplete one (often 0).
  std::size_t consumed() const noexcept { return consumed_; }
  // After kError: the reply text, e.g. "Protocol error: invalid bulk length".
  const std::string& error() const noexcept { return error_; }

 private:
  enum class State { kStart, kMultibulkCount, kBulkHeader, kBulkBody, kInline };

  enum class Line { kOk, kNeedMore, kError };

  Result fail(std::string message);
  // Parses "<prefix><integer>\r\n" at pos_ and moves pos_ past it.
  Line parse_header_line(std::string_view input, std::int64_t* value);
  // Scans for the end of an inline line; kOk when a request (or an empty line) was taken.
  Line parse_inline(std::string_view input, bool* empty);
  Result need_more();
  Result command_done(std::string_view input);

  RespLimits limits_;
  State state_ = State::kStart;
  std::size_t start_ = 0;           // first byte of the current request (after skipped empty ones)
  std::size_t pos_ = 0;             // next unparsed byte
  std::size_t inline_scanned_ = 0;  // bytes of an inline line already searched for its '\n'
  std::size_t arity_ = 0;           // arguments the multibulk announced
  std::size_t bulk_length_ = 0;     // length of the bulk string being read
  std::vector<std::pair<std::size_t, std::size_t>> spans_;  // offset, length of each argument
  std::vector<std::string_view> args_;
  std::size_t consumed_ = 0;
  std::string error_;
};

}  // namespace mantis::server
