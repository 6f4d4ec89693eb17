// Ordered traversal with mantis::Iterator: walk every key, then seek into the middle of a range.
#include <cstdio>
#include <memory>
#include <string>

#include <mantis/engine.hpp>

int main() {
  std::unique_ptr<mantis::Engine> db;
  if (mantis::Status s = mantis::Engine::open(mantis::Options{}, &db); !s.ok()) {
    std::fprintf(stderr, "open failed: %s\n", s.to_string().c_str());
    return 1;
  }
  // Zero-padded numbers, so byte order is numeric order.
  for (int day = 1; day <= 9; ++day) {
    const std::string key = "log:2024-01-0" + std::to_string(day);
    if (mantis::Status s = db->put(key, "entry " + std::to_string(day)); !s.ok()) {
      std::fprintf(stderr, "put failed: %s\n", s.to_string().c_str());
      return 1;
    }
  }

  // An iterator starts unpositioned. It must be destroyed before the engine.
  std::unique_ptr<mantis::Iterator> it = db->new_iterator();
  int count = 0;
  for (it->seek_to_first(); it->valid(); it->next()) ++count;
  std::printf("%d keys in total\n", count);

  // seek() lands on the first key >= the target, so a missing key still finds its place.
  std::printf("from the 5th on:\n");
  for (it->seek("log:2024-01-05"); it->valid(); it->next()) {
    std::printf("  %.*s = %.*s\n", static_cast<int>(it->key().size()), it->key().data(),
                static_cast<int>(it->value().size()), it->value().data());
  }
  it->seek("log:2024-01-05x");
  if (!it->valid() || it->key() != "log:2024-01-06") return 1;
  it->seek("log:2099");
  if (it->valid()) return 1;
  return it->status().ok() ? 0 : 1;
}
