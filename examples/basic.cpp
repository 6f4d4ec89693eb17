// A first tour of mantis: open an in-memory engine, write with and without a TTL, read by copy and
// by zero-copy view, scan a prefix, apply a batch, and print the engine's stats.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <mantis/engine.hpp>

namespace {

// Prints the failed call and its Status; returns false so that main can bail out.
bool check(const mantis::Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "%s failed: %s\n", what, status.to_string().c_str());
  return false;
}

}  // namespace

int main() {
  using namespace std::chrono_literals;

  mantis::Options options;  // memory only: no dir
  std::unique_ptr<mantis::Engine> db;
  if (!check(mantis::Engine::open(options, &db), "open")) return 1;

  // Plain writes, and one that expires 30 seconds from now.
  if (!check(db->put("user:1", "ada"), "put")) return 1;
  if (!check(db->put("user:2", "grace"), "put")) return 1;
  if (!check(db->put("session:42", "token-abc", mantis::WriteOptions{.ttl = 30s}), "put with ttl")) return 1;

  // get() copies the value out; NotFound is a Status, not an exception.
  std::string value;
  if (!check(db->get("user:1", &value), "get")) return 1;
  std::printf("user:1 = %s\n", value.c_str());
  if (!db->get("user:404", &value).is_not_found()) return 1;

  std::optional<std::chrono::milliseconds> remaining;
  if (!check(db->ttl("session:42", &remaining), "ttl") || !remaining) return 1;
  std::printf("session:42 expires in about %lld s\n", static_cast<long long>((*remaining + 999ms) / 1s));

  // A ValueView pins the stored bytes without copying; they stay valid even if the key is
  // overwritten meanwhile, until the view is reset or destroyed.
  mantis::ValueView view;
  if (!check(db->get("user:2", &view), "get view")) return 1;
  if (!check(db->put("user:2", "grace hopper"), "overwrite")) return 1;
  std::printf("user:2 (pinned before the overwrite) = %.*s\n", static_cast<int>(view.data().size()),
              view.data().data());
  view.reset();

  // Prefix scan: keys come in byte order; return false from the callback to stop early.
  if (!check(db->scan_prefix("user:",
                             [](std::string_view key, std::string_view val) {
                               std::printf("  %.*s -> %.*s\n", static_cast<int>(key.size()), key.data(),
                                           static_cast<int>(val.size()), val.data());
                               return true;
                             }),
             "scan_prefix")) {
    return 1;
  }

  // A batch is validated as a whole, then applied in order.
  mantis::WriteBatch batch;
  batch.put("user:3", "barbara");
  batch.put("cache:home", "<html>", 5s);
  batch.erase("user:1");
  if (!check(db->write(batch), "write batch")) return 1;
  std::printf("user:1 present after the batch: %s\n", db->contains("user:1") ? "yes" : "no");

  std::printf("stats: %s\n", db->stats().to_json().c_str());
  return 0;
}
