// The text format of `mantis-tool dump` and `mantis-tool load`: one line per key,
//
//   <key> TAB <value> TAB <ttl> LF
//
// where key and value are escaped (bytes 0x20..0x7e stand for themselves, except the backslash,
// written "\\"; every other byte is "\xNN" with two lowercase hex digits, so a line never holds a raw
// TAB, LF, CR or NUL) and ttl is the time to live left when the dump was taken, in milliseconds
// (a positive decimal), or "-" for a key without one. Empty keys and values are empty fields.
// load reads exactly what dump writes; it also accepts uppercase hex digits and raw bytes >= 0x80,
// and refuses raw control bytes, unknown escapes and lines without exactly three fields.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace mantis::tool {

inline std::string escape(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c <= 0x7e) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one escaped field into *out; on failure returns why.
inline std::optional<std::string> unescape(std::string_view field, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < field.size(); ++i) {
    const auto c = static_cast<unsigned char>(field[i]);
    if (c == '\\') {
      if (i + 1 < field.size() && field[i + 1] == '\\') {
        *out += '\\';
        i += 1;
      } else if (i + 3 < field.size() && field[i + 1] == 'x' && hex_digit(field[i + 2]) >= 0 &&
                 hex_digit(field[i + 3]) >= 0) {
        *out += static_cast<char>(hex_digit(field[i + 2]) * 16 + hex_digit(field[i + 3]));
        i += 3;
      } else {
        return "bad escape at byte " + std::to_string(i) + " (only \\\\ and \\xNN are escapes)";
      }
    } else if (c < 0x20 || c == 0x7f) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "raw control byte 0x%02x at byte %zu (write it as \\x%02x)", c, i, c);
      return std::string(buf);
    } else {
      *out += static_cast<char>(c);
    }
  }
  return std::nullopt;
}

struct DumpEntry {
  std::string key;
  std::string value;
  std::optional<std::chrono::milliseconds> ttl;  // nullopt: no TTL
};

inline std::string format_line(std::string_view key, std::string_view value,
                               std::optional<std::chrono::milliseconds> ttl) {
  std::string line = escape(key);
  line += '\t';
  line += escape(value);
  line += '\t';
  line += ttl ? std::to_string(ttl->count()) : std::string("-");
  line += '\n';
  return line;
}

// Parses one line (without its LF) into *entry; on failure returns why.
inline std::optional<std::string> parse_line(std::string_view line, DumpEntry* entry) {
  const std::size_t first = line.find('\t');
  const std::size_t second = first == std::string_view::npos ? first : line.find('\t', first + 1);
  if (second == std::string_view::npos || line.find('\t', second + 1) != std::string_view::npos) {
    return std::string("expected three TAB-separated fields: key, value, ttl");
  }
  if (auto why = unescape(line.substr(0, first), &entry->key)) return "key: " + *why;
  if (auto why = unescape(line.substr(first + 1, second - first - 1), &entry->value)) return "value: " + *why;
  const std::string_view ttl = line.substr(second + 1);
  if (ttl == "-") {
    entry->ttl.reset();
    return std::nullopt;
  }
  std::int64_t ms = 0;
  for (const char c : ttl) {
    if (c < '0' || c > '9' || ms > (std::int64_t{1} << 50))
      return "ttl: expected '-' or milliseconds, got '" + std::string(ttl) + "'";
    ms = ms * 10 + (c - '0');
  }
  if (ttl.empty() || ms <= 0)
    return "ttl: expected '-' or a positive number of milliseconds, got '" + std::string(ttl) + "'";
  entry->ttl = std::chrono::milliseconds(ms);
  return std::nullopt;
}

}  // namespace mantis::tool
