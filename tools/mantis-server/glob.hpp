// Redis-style glob patterns for SCAN MATCH and KEYS: '*', '?', '[abc]', '[^a-z]', '\x'. Byte-wise,
// so binary keys work. The literal prefix of a pattern (the bytes before its first special
// character) bounds the key range a scan visits, so "user:*" reads only the keys under "user:".
#pragma once

#include <string>
#include <string_view>

namespace mantis::server {

// True if `text` matches `pattern` as a whole. Iterative with one backtrack point, so it runs in
// O(len(pattern) * len(text)) at worst, never exponentially.
bool glob_match(std::string_view pattern, std::string_view text);

// The bytes every match starts with ("user:" for "user:*", "a*b" gives "a", "\*x*" gives "*x").
std::string glob_literal_prefix(std::string_view pattern);

// True if the pattern is exactly its literal prefix followed by one trailing '*' (or is "*"): every
// key in the prefix's range matches, so no per-key test is needed.
bool glob_is_prefix_only(std::string_view pattern);

}  // namespace mantis::server
