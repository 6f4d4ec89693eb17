// A durable engine: write with a batch, close, reopen (recovery from the log), checkpoint (a
// snapshot), reopen again (recovery from the snapshot), and scan what came back.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <mantis/engine.hpp>

namespace {

bool check(const mantis::Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  return s.ok();
}

}  // namespace

int main() {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "mantis-example-durable";
  std::filesystem::remove_all(dir);
  mantis::Options options;
  options.dir = dir;                               // durable: a write-ahead log and snapshots live here
  options.durability = mantis::Durability::kSync;  // every acknowledged write is fdatasync'ed

  std::unique_ptr<mantis::Engine> db;
  if (!check(mantis::Engine::open(options, &db), "open")) return 1;
  mantis::WriteBatch batch;  // one log record: after a crash, all of it or none
  batch.put("order:1", "coffee");
  batch.put("order:2", "tea");
  batch.put("order:3", "water");
  if (!check(db->write(batch), "write") || !check(db->erase("order:3"), "erase")) return 1;
  db.reset();  // close; nothing is lost (and with kAsync, nothing acknowledged is lost even to kill -9)

  if (!check(mantis::Engine::open(options, &db), "reopen")) return 1;  // replays the log
  if (!check(db->put("order:4", "cocoa"), "put") || !check(db->checkpoint(), "checkpoint")) return 1;
  db.reset();

  if (!check(mantis::Engine::open(options, &db), "reopen")) return 1;  // maps the snapshot: zero-copy
  std::printf("recovered:\n");
  int count = 0;
  const mantis::Status s = db->scan_prefix("order:", [&](std::string_view key, std::string_view value) {
    std::printf("  %.*s = %.*s\n", static_cast<int>(key.size()), key.data(), static_cast<int>(value.size()),
                value.data());
    return ++count, true;
  });
  db.reset();
  std::filesystem::remove_all(dir);
  return check(s, "scan") && count == 3 ? 0 : 1;
}
