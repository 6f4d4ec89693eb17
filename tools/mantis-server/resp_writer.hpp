// Appends RESP2 replies to an output buffer. A connection's replies to one batch of pipelined
// requests all go to one std::string, written to the socket once; the string keeps its capacity
// between batches, so steady-state replies allocate nothing.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace mantis::server::resp {

inline void append_integer_line(std::string* out, char kind, std::int64_t value) {
  char digits[24];
  digits[0] = kind;
  const auto result = std::to_chars(digits + 1, digits + sizeof(digits) - 2, value);
  char* end = result.ptr;
  *end++ = '\r';
  *end++ = '\n';
  out->append(digits, static_cast<std::size_t>(end - digits));
}

// "+OK\r\n". REQUIRES: text has no CR or LF.
inline void append_simple(std::string* out, std::string_view text) {
  out->push_back('+');
  out->append(text);
  out->append("\r\n", 2);
}

// "-ERR ...\r\n". CR and LF in the message (which may quote a client's bytes) become spaces.
inline void append_error(std::string* out, std::string_view message) {
  out->push_back('-');
  const std::size_t from = out->size();
  out->append(message);
  for (std::size_t i = from; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') (*out)[i] = ' ';
  }
  out->append("\r\n", 2);
}

inline void append_integer(std::string* out, std::int64_t value) { append_integer_line(out, ':', value); }

inline void append_bulk(std::string* out, std::string_view data) {
  append_integer_line(out, '$', static_cast<std::int64_t>(data.size()));
  out->append(data);
  out->append("\r\n", 2);
}

inline void append_null(std::string* out) { out->append("$-1\r\n", 5); }
// RESP2's nil array: EXEC's reply when a WATCHed key changed.
inline void append_null_array(std::string* out) { out->append("*-1\r\n", 5); }

inline void append_array_header(std::string* out, std::size_t count) {
  append_integer_line(out, '*', static_cast<std::int64_t>(count));
}

inline void append_ok(std::string* out) { out->append("+OK\r\n", 5); }

}  // namespace mantis::server::resp
