#include "glob.hpp"

#include <cstddef>

namespace mantis::server {

namespace {

bool is_special(char c) { return c == '*' || c == '?' || c == '[' || c == '\\'; }

// Matches one byte against the class starting after '[' at pattern[*p]; moves *p past the ']'.
// An unterminated class matches literally up to the end of the pattern, like Redis.
bool match_class(std::string_view pattern, std::size_t* p, unsigned char c) {
  std::size_t i = *p;
  bool negate = false;
  if (i < pattern.size() && pattern[i] == '^') {
    negate = true;
    ++i;
  }
  bool matched = false;
  while (i < pattern.size() && pattern[i] != ']') {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      ++i;
      if (static_cast<unsigned char>(pattern[i]) == c) matched = true;
      ++i;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      auto lo = static_cast<unsigned char>(pattern[i]);
      auto hi = static_cast<unsigned char>(pattern[i + 2]);
      if (lo > hi) std::swap(lo, hi);
      if (c >= lo && c <= hi) matched = true;
      i += 3;
    } else {
      if (static_cast<unsigned char>(pattern[i]) == c) matched = true;
      ++i;
    }
  }
  *p = i < pattern.size() ? i + 1 : i;
  return matched != negate;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = std::string_view::npos;  // pattern position after the last '*'
  std::size_t star_t = 0;                       // text position that '*' is currently matched up to
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = ++p;
        star_t = t;
        continue;
      }
      std::size_t next = p + 1;
      bool ok = false;
      if (pc == '?') {
        ok = true;
      } else if (pc == '[') {
        ok = match_class(pattern, &next, static_cast<unsigned char>(text[t]));
      } else if (pc == '\\' && p + 1 < pattern.size()) {
        ok = pattern[p + 1] == text[t];
        next = p + 2;
      } else {
        ok = pc == text[t];
      }
      if (ok) {
        p = next;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;  // let the last '*' swallow one more byte and retry
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string glob_literal_prefix(std::string_view pattern) {
  std::string prefix;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      prefix.push_back(pattern[++i]);
    } else if (is_special(c)) {
      break;
    } else {
      prefix.push_back(c);
    }
  }
  return prefix;
}

bool glob_is_prefix_only(std::string_view pattern) {
  if (pattern.empty() || pattern.back() != '*') return false;
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size() - 1) return false;  // "\*" at the end is a literal star
      ++i;
    } else if (is_special(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace mantis::server
