#include "resp_parser.hpp"

#include <cstring>

namespace mantis::server {

namespace {

// "*<count>" and "$<length>" lines: a sign, at most 18 digits (no overflow), "\r\n". Redis answers a
// longer line without its CRLF with a protocol error as well.
constexpr std::size_t kMaxHeaderLine = 32;

bool is_inline_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

RespParser::Result RespParser::fail(std::string message) {
  error_ = std::move(message);
  return Result::kError;
}

RespParser::Result RespParser::need_more() {
  // Hand the skipped empty requests back to the caller and rebase every offset on the request start.
  consumed_ = start_;
  pos_ -= start_;
  for (auto& span : spans_) span.first -= start_;
  start_ = 0;
  return Result::kNeedMore;
}

RespParser::Result RespParser::command_done(std::string_view input) {
  args_.clear();
  for (const auto& [offset, length] : spans_) args_.push_back(input.substr(offset, length));
  consumed_ = pos_;
  spans_.clear();
  start_ = pos_ = 0;
  state_ = State::kStart;
  return Result::kCommand;
}

RespParser::Line RespParser::parse_header_line(std::string_view input, std::int64_t* value) {
  const std::size_t available = input.size() - pos_;
  const std::size_t window = available < kMaxHeaderLine ? available : kMaxHeaderLine;
  const void* cr = std::memchr(input.data() + pos_, '\r', window);
  if (cr == nullptr) {
    if (available >= kMaxHeaderLine) {
      error_ = input[pos_] == '*' ? "Protocol error: too big mbulk count string"
                                  : "Protocol error: too big bulk count string";
      return Line::kError;
    }
    return Line::kNeedMore;
  }
  const std::size_t cr_pos = static_cast<std::size_t>(static_cast<const char*>(cr) - input.data());
  if (cr_pos + 1 >= input.size()) return Line::kNeedMore;
  const char kind = input[pos_];
  const char* what = kind == '*' ? "Protocol error: invalid multibulk length" : "Protocol error: invalid bulk length";
  if (input[cr_pos + 1] != '\n') {
    error_ = what;
    return Line::kError;
  }
  std::size_t i = pos_ + 1;
  const bool negative = i < cr_pos && input[i] == '-';
  if (negative) ++i;
  if (i == cr_pos) {
    error_ = what;
    return Line::kError;
  }
  std::int64_t n = 0;
  for (; i < cr_pos; ++i) {
    const char c = input[i];
    if (c < '0' || c > '9') {
      error_ = what;
      return Line::kError;
    }
    if (n > (std::int64_t{1} << 59)) {  // checked before multiplying: no length is near this, and no overflow
      error_ = what;
      return Line::kError;
    }
    n = n * 10 + (c - '0');
  }
  *value = negative ? -n : n;
  pos_ = cr_pos + 2;
  return Line::kOk;
}

RespParser::Line RespParser::parse_inline(std::string_view input, bool* empty) {
  const std::size_t from = pos_ + inline_scanned_;
  const void* nl = std::memchr(input.data() + from, '\n', input.size() - from);
  if (nl == nullptr) {
    inline_scanned_ = input.size() - pos_;
    if (inline_scanned_ > limits_.max_inline_bytes) {
      error_ = "Protocol error: too big inline request";
      return Line::kError;
    }
    return Line::kNeedMore;
  }
  const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - input.data());
  if (end - pos_ > limits_.max_inline_bytes) {
    error_ = "Protocol error: too big inline request";
    return Line::kError;
  }
  inline_scanned_ = 0;
  spans_.clear();
  std::size_t i = pos_;
  while (i < end) {
    while (i < end && is_inline_space(input[i])) ++i;
    const std::size_t word = i;
    while (i < end && !is_inline_space(input[i])) ++i;
    if (i > word) spans_.emplace_back(word, i - word);
  }
  pos_ = end + 1;
  *empty = spans_.empty();
  return Line::kOk;
}

RespParser::Result RespParser::parse(std::string_view input) {
  consumed_ = 0;
  for (;;) {
    switch (state_) {
      case State::kStart:
        start_ = pos_;
        if (pos_ >= input.size()) return need_more();
        state_ = input[pos_] == '*' ? State::kMultibulkCount : State::kInline;
        inline_scanned_ = 0;
        break;

      case State::kInline: {
        bool empty = false;
        const Line line = parse_inline(input, &empty);
        if (line == Line::kNeedMore) return need_more();
        if (line == Line::kError) return Result::kError;
        state_ = State::kStart;
        if (!empty) return command_done(input);
        break;  // a blank line: skipped, like Redis does
      }

      case State::kMultibulkCount: {
        std::int64_t count = 0;
        const Line line = parse_header_line(input, &count);
        if (line == Line::kNeedMore) return need_more();
        if (line == Line::kError) return Result::kError;
        if (count > 0 && static_cast<std::uint64_t>(count) > limits_.max_arity) {
          return fail("Protocol error: invalid multibulk length");
        }
        if (count <= 0) {  // "*0" and "*-1" are empty requests
          state_ = State::kStart;
          break;
        }
        arity_ = static_cast<std::size_t>(count);
        spans_.clear();  // grows one argument at a time, never to the announced arity up front
        state_ = State::kBulkHeader;
        break;
      }

      case State::kBulkHeader: {
        if (pos_ >= input.size()) return need_more();
        if (input[pos_] != '$') {
          std::string message = "Protocol error: expected '$', got '";
          const char c = input[pos_];
          message += (c >= 0x20 && c < 0x7f) ? c : '?';
          message += '\'';
          return fail(std::move(message));
        }
        std::int64_t length = 0;
        const Line line = parse_header_line(input, &length);
        if (line == Line::kNeedMore) return need_more();
        if (line == Line::kError) return Result::kError;
        if (length < 0 || static_cast<std::uint64_t>(length) > limits_.max_bulk_bytes) {
          return fail("Protocol error: invalid bulk length");
        }
        bulk_length_ = static_cast<std::size_t>(length);
        state_ = State::kBulkBody;
        break;
      }

      case State::kBulkBody: {
        if (input.size() - pos_ < bulk_length_ + 2) return need_more();
        const std::size_t end = pos_ + bulk_length_;
        if (input[end] != '\r' || input[end + 1] != '\n') {
          return fail("Protocol error: bulk string is not followed by CRLF");
        }
        spans_.emplace_back(pos_, bulk_length_);
        pos_ = end + 2;
        if (spans_.size() == arity_) return command_done(input);
        state_ = State::kBulkHeader;
        break;
      }
    }
  }
}

}  // namespace mantis::server
