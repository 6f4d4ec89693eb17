#include "mvcc/history.hpp"

#include <algorithm>
#include <iterator>

#include "util/hash.hpp"

namespace mantis::detail {

History::History(const std::atomic<std::uint64_t>& floor) : floor_(floor), shards_(std::make_unique<Shard[]>(kShards)) {}

History::~History() { clear(); }

std::size_t History::shard_of(std::string_view key) noexcept {
  return static_cast<std::size_t>(hash_key(key)) % kShards;
}

const History::Past* History::first_after(const Pasts& pasts, std::uint64_t version) noexcept {
  const auto it = std::upper_bound(pasts.begin(), pasts.end(), version,
                                   [](std::uint64_t v, const Past& past) { return v < past.until; });
  return it == pasts.end() ? nullptr : &*it;
}

bool History::any_between(const Pasts& pasts, std::uint64_t after, std::uint64_t before) noexcept {
  const Past* past = first_after(pasts, after);
  return past != nullptr && past->until < before;
}

void History::unref_all(Pasts& pasts) noexcept {
  for (const Past& past : pasts) {
    if (past.record != nullptr) Record::unref(past.record);
  }
  pasts.clear();
}

History::Keys::iterator History::insert_key(Shard& shard, std::string_view key) {
  if (shard.spare.empty()) return shard.keys.emplace(KeyString(key), Key()).first;
  Keys::node_type& node = shard.spare.back();
  node.key().assign(key.data(), key.size());  // may throw: the node stays spare
  const Keys::iterator it = shard.keys.insert(std::move(node)).position;
  shard.spare.pop_back();
  return it;
}

void History::remove_key(Shard& shard, Keys::iterator key) noexcept {
  if (shard.spare.size() < kSpareKeys) {
    shard.spare.push_back(shard.keys.extract(key));  // within the reserved capacity: no allocation
  } else {
    shard.keys.erase(key);
  }
}

void History::drop_to(Shard& shard, Key& key, std::uint64_t floor) noexcept {
  // They are the oldest (ascending until).
  std::size_t dropped = 0;
  while (dropped < key.pasts.size() && key.pasts[dropped].until <= floor) {
    if (key.pasts[dropped].record != nullptr) Record::unref(key.pasts[dropped].record);
    ++dropped;
  }
  key.pasts.erase(key.pasts.begin(), key.pasts.begin() + static_cast<std::ptrdiff_t>(dropped));
  shard.entries -= dropped;
}

void History::add(std::string_view key, const Record* record, std::uint64_t until, std::uint64_t newest) {
  Shard& shard = shards_[shard_of(key)];
  const std::lock_guard<SpinMutex> lock(shard.mutex);
  // Read under the mutex, after every entry of the shard was added (V5): a floor read before the lock
  // could predate a snapshot taken since, whose entries another writer added meanwhile, and retiring
  // them with it would lose that snapshot's past states.
  const std::uint64_t floor = floor_.load(std::memory_order_seq_cst);
  auto it = shard.keys.find(key);
  if (it == shard.keys.end()) it = insert_key(shard, key);
  Key& entry = it->second;
  drop_to(shard, entry, floor);
  // A key's writes hold its stripe and take increasing sequence numbers (versioning.hpp, V1), so
  // `until` is the largest so far; a stale writer of a mode already turned off may add out of order
  // after a clear(), so insert in place.
  const auto at = std::upper_bound(entry.pasts.begin(), entry.pasts.end(), until,
                                   [](std::uint64_t v, const Past& past) { return v < past.until; });
  // The state ending now began at or after the write that ended the entry before it: if that was
  // after the newest snapshot, no snapshot needs this state (versioning.hpp V6). This is what bounds
  // a key erased and written again and again under one old snapshot: an absent state carries no seq
  // of its own. Every answer of state_at() and written_between() for a version <= newest is unchanged:
  // the earlier entry is the first after such a version, and lies between it and any later write.
  if (at != entry.pasts.begin() && std::prev(at)->until > newest) return;
  try {
    shard.added.push_back({until, it});
    try {
      entry.pasts.insert(at, Past{const_cast<Record*>(record), until});
    } catch (...) {
      shard.added.pop_back();
      throw;
    }
  } catch (...) {  // nothing added; a key left without entries or queued additions goes
    if (entry.pasts.empty() && entry.queued == 0) remove_key(shard, it);
    throw;
  }
  if (record != nullptr) const_cast<Record*>(record)->ref();
  ++entry.queued;
  ++shard.entries;
  // Retire the oldest additions the floor has passed (this one too, when no snapshot needs it).
  for (std::size_t n = 0; n < kRetirePerAdd && !shard.added.empty() && shard.added.front().until <= floor; ++n) {
    const Keys::iterator retired = shard.added.front().key;
    shard.added.pop_front();
    drop_to(shard, retired->second, floor);
    if (--retired->second.queued == 0 && retired->second.pasts.empty()) remove_key(shard, retired);
  }
}

History::State History::state_at(std::string_view key, std::uint64_t version) const {
  const Shard& shard = shards_[shard_of(key)];
  const std::lock_guard<SpinMutex> lock(shard.mutex);
  const auto it = shard.keys.find(key);
  if (it == shard.keys.end()) return {};
  const Past* past = first_after(it->second.pasts, version);
  if (past == nullptr) return {};
  if (past->record != nullptr) past->record->ref();
  return {true, past->record};
}

bool History::written_between(std::string_view key, std::uint64_t after, std::uint64_t before) const {
  const Shard& shard = shards_[shard_of(key)];
  const std::lock_guard<SpinMutex> lock(shard.mutex);
  const auto it = shard.keys.find(key);
  return it != shard.keys.end() && any_between(it->second.pasts, after, before);
}

bool History::range_written_between(std::string_view begin, std::string_view end, bool bounded, std::uint64_t after,
                                    std::uint64_t before) const {
  for (std::size_t i = 0; i < kShards; ++i) {
    const Shard& shard = shards_[i];
    const std::lock_guard<SpinMutex> lock(shard.mutex);
    for (auto it = shard.keys.lower_bound(begin); it != shard.keys.end(); ++it) {
      if (bounded && std::string_view(it->first) >= end) break;
      if (any_between(it->second.pasts, after, before)) return true;
    }
  }
  return false;
}

void History::states_at(std::string_view start, bool inclusive, std::string_view last, bool bounded,
                        std::uint64_t version, std::vector<KeyState>* out) const {
  const std::size_t first = out->size();
  for (std::size_t i = 0; i < kShards; ++i) {
    const Shard& shard = shards_[i];
    const std::lock_guard<SpinMutex> lock(shard.mutex);
    auto it = inclusive ? shard.keys.lower_bound(start) : shard.keys.upper_bound(start);
    for (; it != shard.keys.end(); ++it) {
      if (bounded && std::string_view(it->first) > last) break;
      const Past* past = first_after(it->second.pasts, version);
      if (past == nullptr) continue;
      out->push_back({std::string(it->first), past->record});  // may throw: nothing referenced yet for this entry
      if (past->record != nullptr) past->record->ref();
    }
  }
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
            [](const KeyState& a, const KeyState& b) { return a.key < b.key; });
}

void History::clear() {
  for (std::size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    const std::lock_guard<SpinMutex> lock(shard.mutex);
    for (auto& [name, key] : shard.keys) unref_all(key.pasts);
    shard.added.clear();
    shard.keys.clear();
    shard.spare.clear();
    shard.entries = 0;
  }
}

std::size_t History::entries() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    const std::lock_guard<SpinMutex> lock(shards_[i].mutex);
    total += shards_[i].entries;
  }
  return total;
}

}  // namespace mantis::detail
