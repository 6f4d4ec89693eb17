// mantis::Iterator: ordered traversal of an Engine's live keys.
#pragma once

#include <string_view>

#include <mantis/export.h>
#include <mantis/status.hpp>

namespace mantis {

// Keys come in memcmp order of their bytes. An iterator sees a consistent ordering under concurrent
// writes: every key present (and unexpired) throughout the traversal is returned exactly once, a key
// absent throughout is never returned, and an expired key is never returned.
// An Iterator is not thread-safe: use it from one thread at a time. Not copyable.
// key() and value() stay valid until the next call to next(), seek*() or destruction.
class MANTIS_EXPORT Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator() = default;

  virtual bool valid() const = 0;
  // Positions at the first live key.
  virtual void seek_to_first() = 0;
  // Positions at the first live key >= target.
  virtual void seek(std::string_view target) = 0;
  // REQUIRES: valid(). Moves to the next live key.
  virtual void next() = 0;
  // REQUIRES: valid().
  virtual std::string_view key() const = 0;
  // REQUIRES: valid().
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

}  // namespace mantis
