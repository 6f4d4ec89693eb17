// Signed 64-bit integers as decimal text, in the strict form Redis's INCR family reads and writes: an
// optional '-', then digits without a leading zero (0 alone is "0"), no '+', no spaces, no overflow.
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <string_view>

namespace mantis::detail {

// The integer `text` spells, or false when it is not exactly such a decimal.
inline bool parse_decimal_int64(std::string_view text, std::int64_t* out) noexcept {
  if (text == "0") {
    *out = 0;
    return true;
  }
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 19 || digits.front() < '1' || digits.front() > '9') return false;
  std::uint64_t magnitude = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
    magnitude = magnitude * 10 + static_cast<std::uint64_t>(c - '0');  // 19 digits fit in 64 bits
  }
  constexpr std::uint64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (magnitude > kMax + (negative ? 1 : 0)) return false;
  *out = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return true;
}

// Writes `value` as decimal into `buffer` (20 bytes hold any int64) and returns the text.
inline std::string_view format_decimal_int64(std::int64_t value, char (&buffer)[20]) noexcept {
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return {buffer, static_cast<std::size_t>(result.ptr - buffer)};
}

}  // namespace mantis::detail
