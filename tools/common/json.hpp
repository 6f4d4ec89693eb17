// JSON text for the tools' machine-readable output.
#pragma once

#include <string>
#include <string_view>

namespace mantis::tools {

// `text` as a JSON string literal, quotes included: '"' and '\' are backslash-escaped, bytes below
// 0x20 become \u00XX; every other byte (UTF-8 included) is copied as it is.
std::string json_quote(std::string_view text);

}  // namespace mantis::tools
