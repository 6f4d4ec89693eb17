// mantis::WriteBatch: an ordered list of puts and erases applied by Engine::write.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/export.h>

namespace mantis {

// A WriteBatch is not thread-safe; build it in one thread, then hand it to Engine::write (which
// only reads it). Intentionally copyable and movable.
class MANTIS_EXPORT WriteBatch {
 public:
  struct Op {
    enum class Kind : unsigned char { kPut, kErase };
    Kind kind;
    std::string key;
    std::string value;              // empty for kErase
    std::chrono::milliseconds ttl;  // 0 = no expiry; only for kPut
  };

  // Records a put of key -> value with an optional time to live (0 = no expiry).
  void put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl = {});
  // Records an erase of key.
  void erase(std::string_view key);
  // Removes every recorded operation.
  void clear() noexcept { ops_.clear(); }
  // The number of recorded operations.
  std::size_t count() const noexcept { return ops_.size(); }
  // The recorded operations, in the order they will be applied.
  const std::vector<Op>& ops() const noexcept { return ops_; }

 private:
  std::vector<Op> ops_;
};

}  // namespace mantis
