#include "durability.hpp"

namespace mantis::tools {

std::optional<Durability> parse_durability(std::string_view name) {
  if (name == "none") return Durability::kNone;
  if (name == "async") return Durability::kAsync;
  if (name == "sync") return Durability::kSync;
  if (name == "periodic") return Durability::kPeriodic;
  return std::nullopt;
}

}  // namespace mantis::tools
