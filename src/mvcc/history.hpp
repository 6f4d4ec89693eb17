// History: what keys held before their latest writes, kept while snapshots are alive, so that a read
// at a snapshot finds the state a key had at the snapshot's version (versioning.hpp says when entries
// are added and dropped).
//
// A key's entries are its past states, each with the sequence number of the write that ended it
// (`until`): a record (a reference held here), or "absent". The state of a key at version v is the
// state ended by the first write after v: the entry with the smallest until > v; when there is none,
// no write after v touched the key, and its state at v is its current one in the store.
//
// Entries go as soon as no live snapshot needs them (until <= the floor, versioning.hpp V5), keys with
// them: each shard queues its additions in the order they were made, and every add() retires up to
// kRetirePerAdd queued additions from the front whose `until` the floor has passed. So under a steady
// stream of short snapshots (transactions) a shard holds only what the live ones need, however many
// keys were written, and its lookups stay short; an addition slightly out of order only waits longer.
// add() reads the floor itself, under the shard's mutex: a floor is good only for entries added before
// it was read (one added later may belong to a snapshot taken since), and under the mutex every entry
// it judges is already there.
//
// Thread-safe: sharded by key hash, each shard an ordered map under its own mutex. Nothing here waits
// for anything but those mutexes, and no mutex holder waits for a grace period, so the methods may be
// called inside RCU critical sections.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/record.hpp"
#include "util/memory.hpp"
#include "util/spin_mutex.hpp"

namespace mantis::detail {

class History {
 public:
  static constexpr std::size_t kShards = 16;
  // Queued additions add() retires at most, beyond its own key's: more than one, so a backlog left by
  // a long-lived snapshot drains while writes go on; few, so no add() pays for a long one.
  static constexpr std::size_t kRetirePerAdd = 4;

  // A key's state at a version, as a read at a snapshot sees it.
  struct State {
    bool known = false;         // false: no write after the version touched the key (read the store)
    Record* record = nullptr;   // when known: the record (one reference, the caller's), or nullptr: absent
  };
  // A key's state at a version, for the keys of a range.
  struct KeyState {
    std::string key;
    Record* record;  // one reference (the caller's), or nullptr: absent at the version
  };

  // `floor`: the oldest live snapshot's version, ~0 when none (Versioning's, V5); outlives this.
  explicit History(const std::atomic<std::uint64_t>& floor);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // Records that `key` held `record` (nullptr: was absent) until the write with sequence number `until`,
  // taking a reference on it, unless an entry of the key ended after `newest` (the newest live
  // snapshot's version, read after `until` was taken, versioning.hpp V6): then the state began after
  // every live snapshot and is not kept. Drops entries with until <= the floor (no snapshot needs
  // them): the key's, and those of up to kRetirePerAdd earlier additions to the shard. Throws
  // std::bad_alloc (nothing added then).
  void add(std::string_view key, const Record* record, std::uint64_t until, std::uint64_t newest);
  // The key's state at `version`.
  State state_at(std::string_view key, std::uint64_t version) const;
  // True when a write with sequence number in (after, before) ended a state of `key`.
  bool written_between(std::string_view key, std::uint64_t after, std::uint64_t before) const;
  // Like written_between() for any key in [begin, end) (end unbounded when !bounded).
  bool range_written_between(std::string_view begin, std::string_view end, bool bounded, std::uint64_t after,
                             std::uint64_t before) const;
  // Appends to *out, in key order, the state at `version` of each key in the range that a write after
  // `version` touched: keys from `start` (after it when !inclusive) up to `last` (inclusive) when
  // `bounded`. Throws std::bad_alloc (*out then keeps what was appended, references included).
  void states_at(std::string_view start, bool inclusive, std::string_view last, bool bounded, std::uint64_t version,
                 std::vector<KeyState>* out) const;
  // Drops every entry.
  void clear();
  // Entries held (approximate while writers run).
  std::size_t entries() const;

 private:
  struct Past {
    Record* record;  // nullptr: absent
    std::uint64_t until;
  };
  // Every container allocates internally (util/memory.hpp): under a stream of transactions each add()
  // makes a key node and frees one, from whichever thread retires it.
  using Pasts = std::vector<Past, Allocator<Past>>;  // ascending `until`
  struct Key {
    Pasts pasts;
    std::size_t queued = 0;  // the shard's queued additions of this key: it stays in the map while > 0
  };
  using KeyString = std::basic_string<char, std::char_traits<char>, Allocator<char>>;
  using Keys = std::map<KeyString, Key, std::less<>, Allocator<std::pair<const KeyString, Key>>>;
  struct Added {  // an addition, queued until the floor passes it
    std::uint64_t until;
    Keys::iterator key;
  };
  // Map nodes a shard keeps for its next new keys, instead of freeing them: under a stream of
  // transactions a key comes and goes with every commit, and a reused node brings its key string and
  // its entries' vector with their capacity, so that an addition allocates nothing.
  static constexpr std::size_t kSpareKeys = 32;
  struct alignas(64) Shard {  // its own cache lines: shards are locked by different threads
    Shard() { spare.reserve(kSpareKeys); }
    mutable SpinMutex mutex;  // held for a lookup or an addition: a few hundred nanoseconds
    Keys keys;
    std::deque<Added, Allocator<Added>> added;  // in the order add() was called
    std::vector<Keys::node_type, Allocator<Keys::node_type>> spare;  // empty keys' nodes, up to kSpareKeys
    std::size_t entries = 0;
  };

  static std::size_t shard_of(std::string_view key) noexcept;
  // The key's node in the shard, a spare one reused when there is one. REQUIRES: shard.mutex held, the
  // key not in the shard. Throws std::bad_alloc (nothing changed then).
  static Keys::iterator insert_key(Shard& shard, std::string_view key);
  // Removes a key that has no entries nor queued additions, keeping its node when the shard has room
  // for a spare. REQUIRES: shard.mutex held.
  static void remove_key(Shard& shard, Keys::iterator key) noexcept;
  // Drops the key's entries with until <= floor. REQUIRES: shard.mutex held.
  static void drop_to(Shard& shard, Key& key, std::uint64_t floor) noexcept;
  static const Past* first_after(const Pasts& pasts, std::uint64_t version) noexcept;
  static bool any_between(const Pasts& pasts, std::uint64_t after, std::uint64_t before) noexcept;
  static void unref_all(Pasts& pasts) noexcept;

  const std::atomic<std::uint64_t>& floor_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace mantis::detail
