// Helpers shared by the tests.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include <mantis/engine.hpp>
#include "engine/engine_testing.hpp"

namespace mantis::test {

// Options of a durable engine in `dir` (the other fields at their defaults).
inline Options durable_options(const std::filesystem::path& dir, Durability durability = Durability::kAsync) {
  Options options;
  options.dir = dir;
  options.durability = durability;
  return options;
}

// Options for tests that control expiry: the background reaper is off (expired keys go only when a
// read meets them), and the cache tier holds `cache_capacity` bytes (0 turns it off).
inline Options lazy_expiry_options(std::size_t cache_capacity = Options{}.cache_capacity) {
  Options options;
  options.reaper_interval = std::chrono::milliseconds(0);
  options.cache_capacity = cache_capacity;
  return options;
}

// The engine setups the engine-level tests run in: memory only, with a 1 MiB cache tier, durable.
enum class Setup { kMemory, kMemoryTier, kDurable };

// Options for `setup` (a durable engine lives in dir / "db"), the rest at their defaults.
inline Options options_for(Setup setup, const std::filesystem::path& dir) {
  Options options;
  if (setup == Setup::kMemoryTier) options.cache_capacity = 1 << 20;
  if (setup == Setup::kDurable) options = durable_options(dir / "db");
  return options;
}

// Opens an engine with `options` (on the given clock, if any) or fails the test.
inline std::unique_ptr<Engine> open_engine(const Options& options = {}, const detail::Clock* clock = nullptr) {
  std::unique_ptr<Engine> engine;
  const Status s =
      clock == nullptr ? Engine::open(options, &engine) : detail::EngineTesting::open(options, *clock, &engine);
  INFO(s.to_string());
  REQUIRE(s.ok());
  REQUIRE(engine != nullptr);
  return engine;
}

// The value stored under key, or "<absent>".
inline std::string value_of(const Engine& engine, std::string_view key) {
  std::string value;
  const Status s = engine.get(key, &value);
  if (s.is_not_found()) return "<absent>";
  INFO(s.to_string());
  REQUIRE(s.ok());
  return value;
}

// The value stored under key as a read at `snapshot` sees it, or "<absent>".
inline std::string value_at(const Engine& engine, const Snapshot& snapshot, std::string_view key) {
  ReadOptions read;
  read.snapshot = &snapshot;
  std::string value;
  const Status s = engine.get(read, key, &value);
  if (s.is_not_found()) return "<absent>";
  INFO(s.to_string());
  REQUIRE(s.ok());
  return value;
}

// Every live key and value, through an iterator (which must end without error and return each key once).
inline std::map<std::string, std::string> contents_of(const Engine& engine) {
  std::map<std::string, std::string> out;
  auto it = engine.new_iterator();
  for (it->seek_to_first(); it->valid(); it->next()) {
    const bool inserted = out.emplace(std::string(it->key()), std::string(it->value())).second;
    INFO("the iterator returned a key twice (" << it->key().size() << " bytes)");
    REQUIRE(inserted);
  }
  INFO(it->status().to_string());
  REQUIRE(it->status().ok());
  return out;
}

// How long stress tests run: MANTIS_STRESS_SECONDS (default 2; sanitizer CI runs may shorten it).
// Damages `path` in place: inverts `count` bytes at `offset` (inverting them again restores them).
inline void invert_bytes(const std::filesystem::path& path, std::uintmax_t offset, std::size_t count = 16) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(file.is_open());
  std::string bytes(count, '\0');
  file.seekg(static_cast<std::streamoff>(offset));
  file.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  for (char& c : bytes) c = static_cast<char>(~c);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(file.good());
}

inline std::chrono::milliseconds stress_duration() {
  const char* env = std::getenv("MANTIS_STRESS_SECONDS");
  const double seconds = env != nullptr ? std::atof(env) : 2.0;
  return std::chrono::milliseconds(static_cast<long long>((seconds > 0 ? seconds : 2.0) * 1000));
}

}  // namespace mantis::test
