// The names of mantis::Durability on the tools' command lines: none, async, sync, periodic.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include <mantis/options.hpp>

namespace mantis::tools {

// Every accepted name, in the order the help texts list them.
inline constexpr std::array<std::string_view, 4> kDurabilityNames = {"none", "async", "sync", "periodic"};

// The mode `name` stands for; nullopt if it is none of kDurabilityNames.
std::optional<Durability> parse_durability(std::string_view name);

}  // namespace mantis::tools
