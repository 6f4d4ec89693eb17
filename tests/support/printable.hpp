// Bytes made readable for test and checker messages.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace mantis::test {

// Printable ASCII as it is, anything else (and the backslash) as \xNN; at most `limit` bytes shown.
inline std::string printable(std::string_view bytes, std::size_t limit = 80) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (bytes.size() > limit) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace mantis::test
