// ReplayBatch: the order recovery applies a log slice in. sort() must give exactly a stable sort by
// key (memcmp order; log order within a key) and mark where keys change, for any keys: long shared
// prefixes, keys that are prefixes of others, zero bytes, the empty key, many repeats.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "engine/replay_batch.hpp"

using mantis::detail::LogOpType;
using mantis::detail::ReplayBatch;

namespace {

std::string random_key(std::mt19937_64& rng) {
  static const std::string kShared(37, 'p');
  std::string key;
  switch (rng() % 5) {
    case 0: return key;  // the empty key
    case 1: key = kShared; break;
    case 2: key = "ab"; break;
    case 3: key = std::string(static_cast<std::size_t>(rng() % 20), '\0'); break;
    default: break;
  }
  const std::size_t tail = rng() % 12;
  for (std::size_t i = 0; i < tail; ++i) key.push_back(static_cast<char>("\0\1ab\xff"[rng() % 5]));
  return key;
}

}  // namespace

TEST_CASE("a replay batch sorts by key, keeping log order within a key, and marks key changes", "[replay]") {
  std::mt19937_64 rng(GENERATE(1, 2, 3));
  const std::size_t n = GENERATE(1, 2, 50, 5000);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back(random_key(rng));
  ReplayBatch batch;
  for (std::size_t i = 0; i < n; ++i) batch.add(LogOpType::kErase, keys[i], nullptr, 0, /*seq=*/i);
  batch.sort();
  std::vector<std::size_t> expected(n);
  std::iota(expected.begin(), expected.end(), 0);
  std::stable_sort(expected.begin(), expected.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  REQUIRE(batch.size() == n);
  for (std::size_t i = 0; i < n; ++i) {
    INFO("position " << i);
    ReplayBatch::Op& op = batch.sorted(i);
    REQUIRE(op.seq == expected[i]);
    REQUIRE(batch.key(op) == keys[expected[i]]);
    REQUIRE(batch.starts_key(i) == (i == 0 || keys[expected[i]] != keys[expected[i - 1]]));
  }
}

TEST_CASE("a replay batch releases the records it still owns, and reports when it is full", "[replay]") {
  ReplayBatch batch;
  CHECK(batch.empty());
  std::size_t added = 0;
  while (!batch.full()) batch.add(LogOpType::kErase, "key" + std::to_string(added++), nullptr, 0, 0);
  CHECK(added == ReplayBatch::kMaxOps);
  batch.clear();
  CHECK(batch.empty());
  CHECK_FALSE(batch.full());
  batch.add(LogOpType::kPut, "k", mantis::detail::Record::create("value", 0, 1), 0, 0);
  // The batch's destructor drops the record's reference: leak checkers (ASan) catch it if not.
}
