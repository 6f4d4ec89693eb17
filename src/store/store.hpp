// Store: mantis's ordered, concurrent key -> Record map, a lock-free skiplist.
//
// Design (after Herlihy & Shavit's LockFreeSkipList and Fraser's skiplist, as crossbeam-skiplist does):
// - Each node holds its key inline (one allocation per node, no pointer chase to compare) and an
//   atomic pointer to the key's current Record. A put on an existing key swaps that pointer (CAS), so
//   readers see the old record or the new one, never a mix.
// - Towers are linked by CAS on `next` words whose low bit is a deletion mark. Removal is two-phase:
//   logical (the node's record pointer becomes kDead, by exactly one CAS winner, "the remover"), then
//   physical (every level of the tower is marked top-down, then unlinked by find(), which snips marked
//   nodes it passes).
// - Point operations (get, overwrite, expire, erase) find the key's node through a hash index beside
//   the list (point_index.hpp) in O(1), or from the thread's last lookup when they read that key or
//   its successor (the finger, find_for_read()); ordered operations (scans, inserts) walk the list.
// - Memory is reclaimed with epoch-based RCU (util/rcu.hpp): every operation runs in one read-side
//   critical section; unlinked nodes and replaced records go to a RetireList, retired after it ends.
//
// Invariants:
// I1. Level 0 holds at most one unmarked node per key; a node for a key is inserted at level 0 only
//     when no node for that key remains there (the insert CAS is on an unmarked predecessor whose
//     successor has a greater key).
// I2. A node whose record is kDead stays dead; any thread may mark its tower (marking is idempotent
//     and monotonic: a mark bit is never cleared). Level 0 is marked last, so a node unmarked at level
//     0 is unmarked at every level of its tower.
// I3. A marked `next` word is frozen: no CAS expecting an unmarked word can change it. So a tower
//     builder cannot link a level that is already marked, and a snip through a marked predecessor fails.
// I4. Each node has two owners, its inserter (until it finishes building the tower) and its remover
//     (until it has unlinked the node). Each runs find() after its last change to the node; the owner
//     that drops the count to zero retires the node, which by then is unreachable at every level.
// I5. A record reachable from a node stays allocated for the whole critical section in which it was
//     loaded (the node's reference is dropped only through RCU), so ref() inside that section is safe.
// I6. Inserting a key is serialized by its index shard's writer lock: the inserter holds it from
//     before it searches the list until the new node is in the index. So a key has at most one index
//     entry, and a node that is live when its put returns is indexed; a node stays indexed until its
//     remover (or the next inserter of its key, under the lock) drops the entry after the record
//     became kDead. Overwrites stay lock-free: one CAS on the indexed node's record.
// I7. A node is retired only after it left both the list and the index (its remover unlinks it from
//     both before releasing its owner count), so a node found through the index is valid for the
//     critical section, and a dead one means the key was absent at some moment of the lookup.
// I8. A new node is linked and indexed holding kPending, never its record: its inserter stores the
//     record (release) only once the node is in the list at level 0 and in the index, still under the
//     shard lock. That store is the insert's one linearization point for every path that can reach
//     the node: the index, the finger (which may meet a node at level 0 before it is indexed), scans
//     and the reaper. Until then each of them sees the key as absent, which it is (its previous node
//     is already dead, I6). Without I8 a reader that met the node through the list saw the value
//     while a later reader probing the index still found nothing: a read that went back in time.
//
// Expiry (a record whose deadline the store's clock has reached reads as absent):
// E1. A read reports a key absent because its record R expired only after confirming, after reading
//     the clock, that no writer may be deciding the key from R (DecidingWriters::wait_for, which waits
//     one out and then the read judges the key again) and that R is still the key's record: by removing
//     it (the CAS R -> kDead) or, while removals are paused, by loading the record pointer again. A
//     failed confirmation reads the key again.
// Why: without it a read could load R, be delayed past R's deadline, and report the key absent after a
// write that found R live (a persist, a put-if-present) had already replaced it: the key would read
// absent, then present again. With it, the moment of confirmation is one at which R was the key's
// record and its deadline had passed, so "absent" was true then. A lock-free writer that found R live
// replaces it with a CAS expecting R, which fails once a read has removed R (the writer then decides
// again); a writer deciding under a lock (the engine's key stripes) publishes later, so a read waits
// for it, and a writer that locks after a read's check reads a clock no earlier than the read's and so
// finds R expired too. The reaper's sweep follows the same rule (it skips a key a writer is deciding).
// Reads that are not at the present time (snapshots) judge expiry themselves.
//
// Memory orders: every load of a `next` word or a `record` pointer is acquire, pairing with the release
// half of the acq_rel CAS (or fetch_or) that wrote it, so a reader that sees a node or record also sees
// its initialized contents; counters are relaxed (they order nothing). Other sites say why they differ.
//
// Keys compare as memcmp of their bytes (std::string_view's order).
//
// One file of ~600 lines on purpose: the node layout, the search, insertion, removal and their
// invariants above are one argument, and splitting them would separate each rule from its users.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "store/deciding_writers.hpp"
#include "store/point_index.hpp"
#include "store/record.hpp"
#include "store/scan_batch.hpp"
#include "util/clock.hpp"
#include "util/memory.hpp"
#include "util/random.hpp"
#include "util/rcu.hpp"
#include "util/retire_list.hpp"
#include "util/striped_counters.hpp"

namespace mantis::detail {

// Thread-safe: every public method may be called from any number of threads concurrently, except the
// destructor. Methods may be called from inside an RcuReadLock held by the caller (a scan callback
// does): sections nest, and what they retire is freed after the outer section too.
class Store {
 public:
  // 4^20 keys before the top level stops thinning: far beyond memory.
  static constexpr int kMaxHeight = 20;
  // The most entries one collect() call copies out.
  static constexpr std::size_t kMaxCollect = 256;
  // Nodes one remove_all() slice visits.
  static constexpr std::size_t kSliceNodes = 1024;

  enum class PutOutcome { kInserted, kReplaced, kOutOfMemory, kDeclined };
  enum class EraseOutcome { kErased, kDeclined, kAbsent };
  enum class UpdateOutcome { kUpdated, kNotFound, kOutOfMemory };

  explicit Store(const Clock& clock = SystemClock::instance()) : clock_(clock) {
    rcu_init_process();
    head_ = Node::create({}, nullptr, kMaxHeight);
    if (head_ == nullptr) throw std::bad_alloc();
  }
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // REQUIRES: no concurrent call. Records still pinned elsewhere (views, batches) stay valid.
  ~Store() {
    Node* node = head_->next_node(0);
    while (node != nullptr) {
      Node* next = node->next_node(0);
      Record* record = node->record.load(std::memory_order_relaxed);
      if (holds_record(record)) Record::unref(record);
      Node::destroy(node);
      node = next;
    }
    Node::destroy(head_);
  }

  // Makes `record` the key's current value, taking over the caller's reference. On kOutOfMemory the
  // store is unchanged and the caller still owns `record`.
  PutOutcome put(std::string_view key, Record* record) {
    return put(key, record, [](const auto&) {});
  }
  // Like put(), and once the record is published calls on_published(is_current) inside the same
  // critical section: `is_current()` tells whether the key still holds exactly this record (see
  // read_checked() for why pointer identity is sound there, and what on_published may block on).
  template <class OnPublished>
  PutOutcome put(std::string_view key, Record* record, OnPublished&& on_published) {
    return put_if(
        key, [record](const Record*) { return record; },
        [&on_published](const Record&, const auto& is_current) { on_published(is_current); });
  }

  // A conditional or read-modify-write put, atomic with respect to every other write of the key:
  // make(live) gets the key's live record (nullptr when the key is absent or expired) and returns the
  // record to publish, or nullptr to leave the key as it is (kDeclined). make may run more than once
  // (when another write of the key wins a race, with the new live record); the store takes over only
  // the record it publishes, and every other record make returned stays the caller's. Then calls
  // on_published(record, is_current) inside the critical section, as put() does. On kOutOfMemory the
  // store is unchanged.
  template <class Make, class OnPublished>
  PutOutcome put_if(std::string_view key, Make&& make, OnPublished&& on_published) {
    RetireList retired;  // outlives the critical section
    RcuReadLock lock;
    Node* node = nullptr;
    Record* record = nullptr;
    const PutOutcome outcome = put_locked(key, make, retired, &node, &record);
    if (node != nullptr) {
      on_published(static_cast<const Record&>(*record),
                   [node, record] { return node->record.load(std::memory_order_acquire) == record; });
    }
    return outcome;
  }

  // Calls fn(Record&) inside the critical section if the key holds a live, unexpired record (fn may
  // ref() it to keep it past the call). Returns whether fn was called. An expired record found here
  // is removed (lazy expiry: logically const, hence the const_cast in lookup()).
  template <class Fn>
  bool read(std::string_view key, Fn&& fn) const {
    return lookup(key, [&fn](Record& record, const auto&) { fn(record); });
  }
  // Like read(), but fn(Record& record, is_current) also gets a callable `is_current()` that tells,
  // during fn only, whether the key still holds exactly this record (pointer identity is sound inside
  // the critical section: the record cannot be freed, so its address cannot be reused). fn may block on
  // a mutex: no thread waits for a grace period while holding one (util/rcu.hpp, G1).
  template <class Fn>
  bool read_checked(std::string_view key, Fn&& fn) const {
    return lookup(key, std::forward<Fn>(fn));
  }
  // Calls fn(const Record&) inside the critical section if the key holds a record, expired or not
  // (a read at a snapshot judges expiry at the snapshot's time). Removes nothing. Returns whether fn
  // was called.
  template <class Fn>
  bool read_any(std::string_view key, Fn&& fn) const {
    RcuReadLock lock;
    Node* node = find_for_read(key);
    if (node == nullptr) return false;
    const Record* record = node->record.load(std::memory_order_acquire);
    if (!holds_record(record)) return false;
    fn(*record);
    return true;
  }
  // Removes the key. Returns true if this call removed a record (expired or not).
  bool erase(std::string_view key) {
    RetireList retired;  // outlives the critical section
    RcuReadLock lock;
    Node* node = find_for_read(key);
    if (node == nullptr) return false;
    for (Record* record = node->record.load(std::memory_order_acquire); holds_record(record);
         record = node->record.load(std::memory_order_acquire)) {
      if (remove_record(node, record, expired(*record), retired)) return true;
    }
    return false;
  }
  // Removes the key if it holds a live, unexpired record r for which admit(r) is true, atomically with
  // respect to every other write of the key (admit may run again when another write wins a race).
  // kAbsent when the key is absent or expired (an expired record found is removed, as reads do).
  template <class Admit>
  EraseOutcome erase_if(std::string_view key, Admit&& admit) {
    RetireList retired;  // outlives the critical section
    RcuReadLock lock;
    Node* node = find_for_read(key);
    if (node == nullptr) return EraseOutcome::kAbsent;
    for (Record* record = node->record.load(std::memory_order_acquire); holds_record(record);
         record = node->record.load(std::memory_order_acquire)) {
      if (expired(*record)) {
        if (remove_record(node, record, /*expired_removal=*/true, retired)) return EraseOutcome::kAbsent;
        continue;
      }
      if (!admit(static_cast<const Record&>(*record))) return EraseOutcome::kDeclined;
      if (remove_record(node, record, /*expired_removal=*/false, retired)) return EraseOutcome::kErased;
    }
    return EraseOutcome::kAbsent;
  }

  // Replaces the key's live record r with make(r) (a new Record* with one reference; nullptr means
  // out of memory; r itself means "leave it"), atomically with respect to every other write of the key,
  // then calls on_published(new_record, is_current) as put() does when a new record was published.
  // kUpdated also when make() left the record as it was; kNotFound when the key is absent or expired.
  template <class Make>
  UpdateOutcome update(std::string_view key, Make&& make) {
    return update(key, std::forward<Make>(make), [](const Record&, const auto&) {});
  }
  template <class Make, class OnPublished>
  UpdateOutcome update(std::string_view key, Make&& make, OnPublished&& on_published) {
    RetireList retired;  // outlives the critical section
    RcuReadLock lock;
    Node* node = find_for_read(key);
    Record* current = node == nullptr ? kDead : node->record.load(std::memory_order_acquire);
    while (holds_record(current)) {
      if (expired(*current)) {
        if (remove_record(node, current, /*expired_removal=*/true, retired)) break;
        current = node->record.load(std::memory_order_acquire);
        continue;
      }
      Record* replacement = make(static_cast<const Record&>(*current));
      if (replacement == nullptr) return UpdateOutcome::kOutOfMemory;
      if (replacement == current) return UpdateOutcome::kUpdated;
      // acq_rel: publishes the new record's bytes; acquire on failure reloads the winner's record.
      if (node->record.compare_exchange_strong(current, replacement, std::memory_order_acq_rel,
                                               std::memory_order_acquire)) {
        account_replace(*current, *replacement);
        retired.add(current, &Record::unref_opaque);
        on_published(static_cast<const Record&>(*replacement),
                     [node, replacement] { return node->record.load(std::memory_order_acquire) == replacement; });
        return UpdateOutcome::kUpdated;
      }
      Record::unref(replacement);
    }
    return UpdateOutcome::kNotFound;
  }

  // Visits up to `limit` present entries in key order, keys >= start (or > start when !inclusive) and
  // < end when `bounded`, and copies the unexpired ones into `batch` (cleared first), each pinning its
  // record. Sets batch.exhausted when nothing is left in range, else batch.resume_key().
  // REQUIRES: limit <= kMaxCollect.
  void collect(std::string_view start, bool inclusive, std::string_view end, bool bounded, std::size_t limit,
               ScanBatch& batch) const {
    assert(limit <= kMaxCollect);  // `found` below holds kMaxCollect entries
    batch.clear();
    batch.exhausted = false;
    std::uint64_t now = clock_.now_ms();
    RetireList retired;  // outlives the critical section
    RcuReadLock lock;
    // Two passes, so that the records' cache misses overlap: the walk over the (mostly adjacent) nodes
    // prefetches each record, then the records are checked and pinned. A record replaced between the
    // passes is still valid (I5) and was the key's value during the scan.
    struct Found {
      Node* node;
      Record* record;
    };
    Found found[kMaxCollect];
    std::size_t count = 0;
    WalkAhead ahead;
    Node* node = seek(start);
    if (node != nullptr && !inclusive && node->key() == start) node = next_live(node);
    for (; node != nullptr && count < limit; node = next_live(node)) {
      if (bounded && node->key() >= end) break;
      Record* record = node->record.load(std::memory_order_acquire);
      ahead.step(node);
      if (!holds_record(record)) continue;
      __builtin_prefetch(record);
      found[count++] = {node, record};
    }
    std::size_t key_bytes = 0;
    for (std::size_t i = 0; i < count; ++i) key_bytes += found[i].node->key_size;
    batch.reserve(count, key_bytes);
    for (std::size_t i = 0; i < count; ++i) {
      Record* record = unexpired(found[i].node, found[i].record, &now, retired);
      if (!holds_record(record)) continue;
      record->ref();
      batch.add(found[i].node->key(), record);
    }
    batch.exhausted = count < limit;
    if (!batch.exhausted) batch.set_resume_key(found[count - 1].node->key());
  }

  enum class Visited { kStopped, kExhausted, kMore };
  // Calls fn(key, record) for the live, unexpired entries in key order from `start` (or after it when
  // !inclusive) below `end` when `bounded`, visiting at most `limit` entries, all inside one critical
  // section: no copy and no reference taken. fn returns false to stop. fn may call into the store
  // (sections nest; writers never wait for this one), and must ref() a record to keep it past its
  // return. kMore: the limit was reached, *resume holds the last key visited (resume after it).
  // A section blocks no writer, but what is retired during it is freed only after it ends.
  // With `include_expired`, expired records are visited too (a scan at a snapshot judges expiry itself).
  template <class Fn>
  Visited visit(std::string_view start, bool inclusive, std::string_view end, bool bounded, std::size_t limit,
                std::string* resume, Fn&& fn, bool include_expired = false) const {
    assert(limit >= 1);
    RetireList retired;  // outlives the critical section
    RcuReadLock lock;
    std::uint64_t now = include_expired ? 0 : clock_.now_ms();  // nothing is expired at 0
    Node* node = nullptr;
    if (inclusive) {
      // An indexed node unmarked at level 0 is in the list (I6), and the first node >= its key (I1).
      Node* found = find_for_read(start);
      if (found != nullptr && !is_marked(found->next(0).load(std::memory_order_acquire))) node = found;
    }
    if (node == nullptr) {
      node = seek(start);
      if (node != nullptr && !inclusive && node->key() == start) node = next_live(node);
    }
    Node* last = nullptr;
    WalkAhead ahead;
    for (std::size_t visited = 0; node != nullptr; ++visited) {
      if (bounded && node->key() >= end) return Visited::kExhausted;
      if (visited == limit) {  // REQUIRES limit >= 1, so last is set
        resume->assign(last->key());
        return Visited::kMore;
      }
      Record* record = node->record.load(std::memory_order_acquire);
      if (holds_record(record)) __builtin_prefetch(record);
      ahead.step(node);
      Node* next = next_live(node);  // its miss overlaps the record's
      record = unexpired(node, record, &now, retired);
      if (holds_record(record) && !fn(node->key(), static_cast<const Record&>(*record))) return Visited::kStopped;
      last = node;
      node = next;
    }
    return Visited::kExhausted;
  }

  struct SweepResult {
    std::size_t removed = 0;
    bool reached_end = false;
  };
  // Visits up to `limit` nodes from the first key >= `*cursor` and removes those whose records
  // satisfy `doomed(record, now_ms)` (comparing the record, so a newer value written meanwhile is never
  // removed). `*cursor` becomes the key of the next node to visit.
  // A sweep of expired records (count_as_expired) removes nothing while removals are paused.
  template <class Doomed>
  SweepResult remove_where(std::string* cursor, std::size_t limit, bool count_as_expired, Doomed&& doomed) {
    RetireList retired;  // outlives the critical section
    SweepResult result;
    RcuReadLock lock;
    if (count_as_expired && removals_paused()) return result;  // checked inside the section (Versioning, V4)
    const std::uint64_t now = clock_.now_ms();
    Node* node = seek(*cursor);
    std::size_t visited = 0;
    for (; node != nullptr && visited < limit; ++visited, node = next_live(node)) {
      Record* record = node->record.load(std::memory_order_acquire);
      if (!holds_record(record) || !doomed(static_cast<const Record&>(*record), now)) continue;
      // E1 for expiry: not while a writer may be deciding the key from the record (the next pass may).
      if (count_as_expired && deciders_ != nullptr && deciders_->wait_for(node->key())) continue;
      if (remove_record(node, record, count_as_expired, retired)) ++result.removed;
    }
    result.reached_end = node == nullptr;
    if (node != nullptr) cursor->assign(node->key());
    return result;
  }

  enum class Appended { kOk, kOutOfOrder, kOutOfMemory };

 private:
  struct Node;

 public:
  // Puts entries in strictly ascending key order into a store no other thread uses (recovery: a sorted
  // snapshot into the empty store, then each sorted slice of the log over it). Each append() walks
  // forward from where the previous one stopped instead of searching from the head, so n appends into a
  // store of m nodes cost O(n log(m/n + 1)) steps, and appending past the last key costs no search.
  //
  // Why starting each level where the last append stopped is sound: last_[level] is a node before the
  // previous key at `level` (or the previous key's own node), and last_[level] is never before
  // last_[level + 1] in the list. The walk goes down from the top; once it has advanced at some level,
  // the node it reached holds a key >= the previous key (it passed the previous key's successor at that
  // level or its own node), so it is at or after last_[level] below and the walk carries it down.
  // Until it advances, last_[level] is the further of the two. Either way every level starts at a node
  // whose key is below the new key, which is all a skiplist search needs.
  //
  // REQUIRES: no other thread uses the store until the loader is done (its links are plain stores,
  // published by whatever hands the store over), and the store holds no dead node (none is left once
  // erase() returns, since find() unlinks it).
  class Loader {
   public:
    explicit Loader(Store& store) : store_(store) {
      for (Node*& last : last_) last = store.head_;
    }
    // Starts loading what a later append(key) will touch in the index (a hint; changes nothing).
    void prefetch(std::string_view key) const noexcept { store_.index_.prefetch(IndexHash::of(key)); }
    // Makes `record` the key's value, inserting the key or replacing its record (whose reference is
    // dropped), and takes over `record`'s reference on kOk. kOutOfOrder when `key` is not greater than
    // the previous key put; the store is unchanged and the caller keeps the record then, and on
    // kOutOfMemory.
    // Reads nothing of a mapped record (whose page then stays untouched until the key is read).
    Appended append(std::string_view key, Record* record) {
      if (previous_ != nullptr && key <= previous_->key()) return Appended::kOutOfOrder;
      const IndexHash hash = IndexHash::of(key);
      // A key the store already holds (a log replayed over a snapshot rewrites many) is found by the
      // index with one probe, where the walk visits nodes at every level; the node then becomes the
      // finger at its levels, and the fingers above stay before it, so the argument above holds. The
      // probe is a waste for a new key, so it is tried only while at least one append in eight of the
      // last 64 met a key already there (both paths record it); and never past the store's last node
      // (last_[0] is the previous key's node, or the head), where no key can be.
      if (std::popcount(recent_found_) >= 8 && last_[0]->next_node(0) != nullptr) {
        if (Node* node = store_.index_.find(key, hash); node != nullptr) return replace(node, record);
      }
      Node* succs[kMaxHeight];
      bool advanced = false;
      Node* reached = nullptr;
      for (int level = kMaxHeight - 1; level >= 0; --level) {
        Node* pred = advanced ? reached : last_[level];
        Node* next = pred->next_node(level);
        while (next != nullptr && next->key() < key) {
          pred = next;
          next = pred->next_node(level);
          advanced = true;
        }
        last_[level] = pred;
        succs[level] = next;
        reached = pred;
      }
      if (succs[0] != nullptr && succs[0]->key() == key) return replace(succs[0], record);
      Node* node = Node::create(key, record, random_height());
      if (node == nullptr) return Appended::kOutOfMemory;
      if (!store_.index_.insert_unshared(node, hash)) {
        Node::destroy(node);
        return Appended::kOutOfMemory;
      }
      for (int level = 0; level < node->height; ++level) {
        node->next(level).store(word_of(succs[level]), std::memory_order_relaxed);
        last_[level]->next(level).store(word_of(node), std::memory_order_relaxed);
      }
      node->owners.store(1, std::memory_order_relaxed);  // I4: no inserter left to release it
      if (node->height > store_.max_height_.load(std::memory_order_relaxed)) {
        store_.max_height_.store(node->height, std::memory_order_relaxed);
      }
      store_.counters_.add(kKeys);
      store_.counters_.add(kBytes, key.size() + record->value_size());
      store_.note_ttl(*record);
      advance_to(node, /*found=*/false);
      return Appended::kOk;
    }

   private:
    Appended replace(Node* node, Record* record) {
      Record* old = node->record.load(std::memory_order_relaxed);
      node->record.store(record, std::memory_order_relaxed);
      store_.account_replace(*old, *record);
      Record::unref(old);
      advance_to(node, /*found=*/true);
      return Appended::kOk;
    }
    // `node` holds the key just put: the finger at its levels, and the order check's previous key.
    void advance_to(Node* node, bool found) {
      for (int level = 0; level < node->height; ++level) last_[level] = node;
      previous_ = node;
      recent_found_ = (recent_found_ << 1) | (found ? 1 : 0);
    }

    Store& store_;
    Node* last_[kMaxHeight];
    Node* previous_ = nullptr;  // the node of the last key put
    std::uint64_t recent_found_ = 0;  // bit i: the append i appends ago met a key already there
  };

  // Removes every key, in slices of kSliceNodes nodes (one short critical section each, so readers and
  // writers go on meanwhile). Keys written concurrently may survive.
  void remove_all() {
    std::string cursor;
    while (!remove_where(&cursor, kSliceNodes, /*count_as_expired=*/false, [](const Record&, std::uint64_t) {
              return true;
            }).reached_end) {
    }
  }

  // Approximate while writers run; exact when quiescent.
  std::size_t size() const noexcept { return static_cast<std::size_t>(counters_.sum(kKeys)); }
  // Key + value bytes of the records in the store.
  std::uint64_t bytes() const noexcept { return counters_.sum(kBytes); }
  // Bytes of the point index's tables (approximate while writers run).
  std::size_t index_bytes() const noexcept { return index_.memory_bytes(); }
  // Records removed because they had expired.
  std::uint64_t expired_removals() const noexcept { return counters_.sum(kExpired); }
  // True once any record with a TTL was written: the reaper sleeps until then.
  bool has_ttls() const noexcept { return has_ttls_.load(std::memory_order_relaxed); }
  // While paused, the store removes no expired record on its own: reads treat one as absent and leave
  // it, sweeps skip; writes still replace or remove them. Versioning pauses removals while snapshots
  // are alive, because such a removal would change a key without a sequence number (V4). A read or
  // sweep checks the flag inside its critical section, so one grace period after pausing, none that
  // saw removals allowed is still running.
  void pause_removals(bool paused) noexcept { removals_paused_.store(paused, std::memory_order_seq_cst); }
  bool removals_paused() const noexcept { return removals_paused_.load(std::memory_order_seq_cst); }

  // The writers reads must wait for before reporting an expired key absent (E1); nullptr (the default)
  // when every writer of this store replaces records with a CAS. REQUIRES: no concurrent call, and
  // `writers` outlives the store.
  void set_deciding_writers(const DecidingWriters* writers) noexcept { deciders_ = writers; }

  const Clock& clock() const noexcept { return clock_; }
  bool expired(const Record& record) const noexcept {
    return record.expires_at_ms() != 0 && record.expired_at(clock_.now_ms());
  }

 private:
  // The record pointer of a logically removed node, and of a node being inserted whose record is not
  // published yet (I8). Neither is ever dereferenced; every other value is a live record.
  static inline Record* const kDead = reinterpret_cast<Record*>(std::uintptr_t{1});
  static inline Record* const kPending = reinterpret_cast<Record*>(std::uintptr_t{2});
  static bool holds_record(const Record* record) noexcept {
    return reinterpret_cast<std::uintptr_t>(record) > reinterpret_cast<std::uintptr_t>(kPending);
  }
  static constexpr std::uintptr_t kMark = 1;

  static bool is_marked(std::uintptr_t word) noexcept { return (word & kMark) != 0; }
  static Node* node_of(std::uintptr_t word) noexcept { return reinterpret_cast<Node*>(word & ~kMark); }
  static std::uintptr_t word_of(Node* node) noexcept { return reinterpret_cast<std::uintptr_t>(node); }

  struct Node {
    std::atomic<Record*> record;
    std::atomic<std::uint8_t> owners;  // I4: inserter + remover
    std::uint8_t height;
    std::uint32_t key_size;
    // Followed by std::atomic<std::uintptr_t> next[height], then the key bytes.

    std::atomic<std::uintptr_t>& next(int level) noexcept {
      return reinterpret_cast<std::atomic<std::uintptr_t>*>(this + 1)[level];
    }
    Node* next_node(int level) noexcept { return node_of(next(level).load(std::memory_order_acquire)); }
    std::string_view key() const noexcept {
      const auto* bytes = reinterpret_cast<const char*>(this + 1) + height * sizeof(std::uintptr_t);
      return {bytes, key_size};
    }

    // nullptr when memory is exhausted (or the address is one the index cannot hold).
    static Node* create(std::string_view key, Record* record, int height) noexcept {
      const std::size_t size = sizeof(Node) + height * sizeof(std::uintptr_t) + key.size();
      void* memory = detail::allocate(size);
      if (memory == nullptr) return nullptr;
      if (!PointIndex<Node>::addressable(static_cast<const Node*>(memory))) {
        detail::deallocate(memory);
        return nullptr;
      }
      Node* node = new (memory) Node;
      node->record.store(record, std::memory_order_relaxed);
      node->owners.store(2, std::memory_order_relaxed);
      node->height = static_cast<std::uint8_t>(height);
      node->key_size = static_cast<std::uint32_t>(key.size());
      for (int level = 0; level < height; ++level) new (&node->next(level)) std::atomic<std::uintptr_t>(0);
      if (!key.empty()) std::memcpy(const_cast<char*>(node->key().data()), key.data(), key.size());
      return node;
    }
    static void destroy(Node* node) noexcept {
      node->~Node();
      detail::deallocate(node);
    }
    static void destroy_opaque(void* node) noexcept { destroy(static_cast<Node*>(node)); }
  };
  static_assert(sizeof(Node) == 16, "node header: record pointer + owners/height/key_size");
  static_assert(alignof(std::max_align_t) >= 16, "the index tags node addresses in their low 4 bits");
  static_assert(alignof(Node) >= 2, "the low bit of a node address is the deletion mark");

  enum Counter : std::size_t { kKeys, kBytes, kExpired };

  static int random_height() noexcept {
    // Geometric with p = 1/4: two random bits per level. Seeded per thread by the generator's address.
    thread_local XorShift64 random(XorShift64::kGolden ^ reinterpret_cast<std::uintptr_t>(&random));
    const int zeros = __builtin_ctzll(random.next() | (std::uint64_t{1} << (2 * (kMaxHeight - 1))));
    return 1 + zeros / 2;
  }

  int top_level() const noexcept { return max_height_.load(std::memory_order_relaxed) - 1; }

  template <class Fn>
  bool lookup(std::string_view key, Fn&& fn) const {
    RetireList retired;  // outlives the critical section
    RcuReadLock lock;
    Node* node = find_for_read(key);
    if (node == nullptr) return false;
    Record* record = node->record.load(std::memory_order_acquire);
    while (holds_record(record) && expired(*record)) record = settle_expired(node, record, retired);  // E1
    if (!holds_record(record)) return false;
    fn(*record, [node, record] { return node->record.load(std::memory_order_acquire) == record; });
    return true;
  }

  // A search is a chain of dependent cache misses. While the node to the right (curr) loads, start
  // loading the node below-right of pred too: if curr overshoots, that is where the search goes next.
  static void prefetch_down(Node* pred, int level) noexcept {
    if (level > 0) __builtin_prefetch(node_of(pred->next(level - 1).load(std::memory_order_relaxed)));
  }
  // Fetches the nodes a walk along level 0 is about to visit, several at a time. The walk's own misses
  // come one at a time (each node holds the next one's address); beside it run other chains: a scout
  // hops along level 1 (about four nodes per hop) up to kHops level-1 nodes ahead of the walk, and from
  // each level-1 node it reaches a runner steps along level 0 towards the next one. Each chain advances
  // one step per node the walk visits and reads only a node it fetched a step before, so their misses
  // overlap the walk's. Hints only: every node read is reachable inside the walk's RCU section, so it
  // stays allocated as the walk's own do (I7), and a stale one costs a wasted fetch, never an answer.
  class WalkAhead {
   public:
    // Called with each node the walk visits, in order.
    void step(Node* visited) noexcept {
      if (visited->height > 1) {
        if (scout_ == nullptr || hops_ == 0) {  // the walk caught up (or just began): scout from here
          scout_ = visited;
          hops_ = 0;
        } else {
          --hops_;
        }
      }
      for (int i = 0; i < runners_;) {
        Runner& runner = runner_[i];  // its node was fetched a step ago
        Node* next = nullptr;
        // Past its first step, a level-1 node is where the next runner begins.
        if ((runner.steps == 0 || runner.node->height == 1) && runner.steps < kRunnerSteps) {
          next = runner.node->next_node(0);
        }
        if (next == nullptr) {
          runner_[i] = runner_[--runners_];
          continue;
        }
        __builtin_prefetch(next);
        runner.node = next;
        ++runner.steps;
        ++i;
      }
      if (scout_ != nullptr && hops_ < kHops) {
        Node* hop = scout_->next_node(1);
        if (hop != nullptr) {
          __builtin_prefetch(hop);
          if (runners_ < kHops) runner_[runners_++] = {hop, 0};
          ++hops_;
        }
        scout_ = hop;
      }
    }

   private:
    static constexpr int kHops = 4;
    static constexpr int kRunnerSteps = 8;  // past a level-1 gap this long, leave the rest to the walk
    struct Runner {
      Node* node;
      int steps;
    };
    Node* scout_ = nullptr;  // a level-1 node, hops_ level-1 nodes ahead of the walk
    int hops_ = 0;
    Runner runner_[kHops];
    int runners_ = 0;
  };

  // The node indexed for `key` (its record may be kDead), or nullptr: an O(1) lookup that never
  // writes shared memory (I6, I7).
  //
  // First the finger: this thread's last point lookup in this store left its node there. If the key is
  // that node's or its successor's (sequential access), and the node is provably still allocated (it
  // was found in an earlier section that announced this section's epoch: util/rcu.hpp's
  // rcu_section_epoch() and G5), no hash probe is needed. A node found this way is unmarked at level 0,
  // so it is in the list and the only unmarked node of its key (I1), as an indexed one is. Why that is
  // enough:
  // - A freed node is never followed (the epoch proof), so an address reused for another node or a
  //   record is never read as the finger's node; store_id rules out another store at the same address.
  // - Erase then re-insert of the key: the old node is marked at level 0 before the new one is linked
  //   (put_locked marks it if its remover has not yet), so an unmarked finger node is the key's node.
  // - The successor may be a node whose insert is under way and not yet indexed: it holds kPending
  //   until indexed (I8), so the finger reads the key as absent until every path sees the insert.
  Node* find_for_read(std::string_view key) const {
    Finger& finger = finger_;
    const std::uint64_t epoch = rcu_section_epoch();
    if (finger.store_id == id_ && finger.epoch == epoch) {  // still allocated (rcu_section_epoch(), G5)
      if (Node* near = on_finger(finger.node, key)) return near;
    }
    Node* node = index_.find(key, IndexHash::of(key));
    if (node != nullptr) remember(node);
    return node;
  }

  // Leaves the finger on `node` (found in the current critical section) and starts loading its
  // successor, the likely next key read.
  void remember(Node* node) const noexcept {
    finger_ = {id_, rcu_section_epoch(), node};
    __builtin_prefetch(node_of(node->next(0).load(std::memory_order_relaxed)));
  }

  // `node` if it holds `key`, else its successor if that holds `key`; either only while unmarked.
  Node* on_finger(Node* node, std::string_view key) const {
    std::uintptr_t word = node->next(0).load(std::memory_order_acquire);
    if (is_marked(word)) return nullptr;
    if (node->key() == key) return node;
    Node* next = node_of(word);
    if (next == nullptr || is_marked(next->next(0).load(std::memory_order_acquire)) || next->key() != key) {
      return nullptr;
    }
    remember(next);
    return next;
  }

  // The first unmarked node at level 0 with key >= `key`, or nullptr.
  Node* seek(std::string_view key) const {
  retry:
    Node* pred = head_;
    Node* curr = nullptr;
    for (int level = top_level(); level >= 0; --level) {
      std::uintptr_t word = pred->next(level).load(std::memory_order_acquire);
      if (is_marked(word)) goto retry;
      curr = node_of(word);
      prefetch_down(pred, level);
      while (curr != nullptr) {
        const std::uintptr_t succ = curr->next(level).load(std::memory_order_acquire);
        if (is_marked(succ)) {
          curr = node_of(succ);
          continue;
        }
        if (curr->key() >= key) break;
        pred = curr;
        curr = node_of(succ);
        prefetch_down(pred, level);
      }
    }
    return curr;
  }

  // The next unmarked node after `node` at level 0 (node itself may have been removed meanwhile:
  // its frozen next word still leads forward, I3).
  static Node* next_live(Node* node) noexcept {
    Node* curr = node->next_node(0);
    while (curr != nullptr && is_marked(curr->next(0).load(std::memory_order_acquire))) curr = curr->next_node(0);
    return curr;
  }

  // Search that helps: fills preds/succs at every level below kMaxHeight for `key` and snips every
  // marked node it passes. succs[level] is the first unmarked node with key >= `key`.
  // Returns succs[0] if it holds `key`, else nullptr.
  Node* find(std::string_view key, Node** preds, Node** succs) {
  retry:
    Node* pred = head_;
    for (int level = kMaxHeight - 1; level >= 0; --level) {
      std::uintptr_t word = pred->next(level).load(std::memory_order_acquire);
      if (is_marked(word)) goto retry;  // pred was removed at this level after we passed it
      Node* curr = node_of(word);
      prefetch_down(pred, level);
      while (curr != nullptr) {
        std::uintptr_t succ = curr->next(level).load(std::memory_order_acquire);
        if (is_marked(succ)) {
          // Snip curr. acq_rel: release keeps our view of the list ordered before the unlink;
          // failure means pred changed or was marked (I3): start over.
          std::uintptr_t expected = word_of(curr);
          if (!pred->next(level).compare_exchange_strong(expected, succ & ~kMark, std::memory_order_acq_rel,
                                                         std::memory_order_acquire)) {
            goto retry;
          }
          curr = node_of(succ);
          continue;
        }
        if (curr->key() >= key) break;
        pred = curr;
        curr = node_of(succ);
        prefetch_down(pred, level);
      }
      preds[level] = pred;
      succs[level] = curr;
    }
    return succs[0] != nullptr && succs[0]->key() == key ? succs[0] : nullptr;
  }

  static void mark_tower(Node* node) noexcept {
    // Top-down, level 0 last (I2). acq_rel: the mark is ordered after everything we did to the node.
    for (int level = node->height - 1; level >= 0; --level)
      node->next(level).fetch_or(kMark, std::memory_order_acq_rel);
  }

  void release_owner(Node* node, RetireList& retired) {
    // acq_rel: the other owner's last find() happens before the retire.
    if (node->owners.fetch_sub(1, std::memory_order_acq_rel) == 1) retired.add(node, &Node::destroy_opaque);
  }

  // E1 for a read that found `record` expired at a clock reading taken before this call: kDead when
  // the key is confirmed absent, else the node's record now, for the read to judge again.
  Record* settle_expired(Node* node, Record* record, RetireList& retired) const {
    if (deciders_ != nullptr && deciders_->wait_for(node->key())) return node->record.load(std::memory_order_acquire);
    if (removals_paused()) {
      Record* now = node->record.load(std::memory_order_acquire);
      return now == record ? kDead : now;
    }
    if (const_cast<Store*>(this)->remove_record(node, record, /*expired_removal=*/true, retired)) return kDead;
    return node->record.load(std::memory_order_acquire);
  }

  // A walk's E1: `record`, loaded from `node` after *now was read, or what replaced it, judged again at
  // a fresh *now after each failed confirmation, until it is unexpired or the key is confirmed absent
  // (kDead). Point reads use expired() instead, which reads the clock only for a record with a TTL.
  Record* unexpired(Node* node, Record* record, std::uint64_t* now, RetireList& retired) const {
    while (holds_record(record) && record->expired_at(*now)) {
      record = settle_expired(node, record, retired);
      *now = clock_.now_ms();
    }
    return record;
  }

  // Logically removes `node` if its record is still `record` (never a newer one), then unlinks it.
  // Returns true if this call removed it. Runs inside a critical section.
  bool remove_record(Node* node, Record* record, bool expired_removal, RetireList& retired) {
    if (!node->record.compare_exchange_strong(record, kDead, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return false;
    }
    counters_.subtract(kKeys);
    counters_.subtract(kBytes, node->key_size + record->value_size());
    if (expired_removal) counters_.add(kExpired);
    retired.add(record, &Record::unref_opaque);
    mark_tower(node);
    Node* preds[kMaxHeight];
    Node* succs[kMaxHeight];
    find(node->key(), preds, succs);
    typename PointIndex<Node>::Locked(index_, IndexHash::of(node->key())).erase(node, retired);  // I7
    release_owner(node, retired);
    return true;
  }

  enum class Replaced { kPublished, kDeclined, kDead };
  // Makes make(live) the node's value with one CAS (the store takes over that record's reference),
  // make getting nullptr when the node's record is expired; kDead when the node is dead.
  template <class Make>
  Replaced replace_record(Node* node, Make& make, RetireList& retired, Record** published) {
    Record* current = node->record.load(std::memory_order_acquire);
    while (holds_record(current)) {
      Record* record = make(expired(*current) ? nullptr : static_cast<const Record*>(current));
      if (record == nullptr) return Replaced::kDeclined;
      // acq_rel: publishes the record's bytes to readers that load it with acquire.
      if (node->record.compare_exchange_weak(current, record, std::memory_order_acq_rel, std::memory_order_acquire)) {
        account_replace(*current, *record);
        retired.add(current, &Record::unref_opaque);
        *published = record;
        return Replaced::kPublished;
      }
    }
    return Replaced::kDead;
  }

  void account_replace(const Record& old_record, const Record& new_record) {
    counters_.add(kBytes, new_record.value_size());
    counters_.subtract(kBytes, old_record.value_size());
    if (expired(old_record)) counters_.add(kExpired);
    note_ttl(new_record);
  }

  void note_ttl(const Record& record) noexcept { note_ttl(record.expires_at_ms()); }
  void note_ttl(std::uint64_t expires_at_ms) noexcept {
    if (expires_at_ms != 0 && !has_ttls_.load(std::memory_order_relaxed)) {
      has_ttls_.store(true, std::memory_order_relaxed);
    }
  }

  // Publishes make(live) (see put_if) and sets *published to the node that holds it and *record to it.
  template <class Make>
  PutOutcome put_locked(std::string_view key, Make& make, RetireList& retired, Node** published, Record** record_out) {
    const IndexHash hash = IndexHash::of(key);
    // Overwrite, lock-free: a live node of the key is indexed (I6).
    if (Node* node = index_.find(key, hash); node != nullptr) {
      const Replaced replaced = replace_record(node, make, retired, record_out);
      if (replaced == Replaced::kDeclined) return PutOutcome::kDeclined;
      if (replaced == Replaced::kPublished) {
        *published = node;
        return PutOutcome::kReplaced;
      }
    }
    // Insert, under the key's index shard lock (I6).
    typename PointIndex<Node>::Locked shard(index_, hash);
    if (Node* node = shard.find(key)) {
      const Replaced replaced = replace_record(node, make, retired, record_out);  // inserted since the look
      if (replaced == Replaced::kDeclined) return PutOutcome::kDeclined;
      if (replaced == Replaced::kPublished) {
        *published = node;
        return PutOutcome::kReplaced;
      }
      shard.erase(node, retired);  // dead: its remover unlinks it from the list; the key gets one entry again
    }
    // The key is absent, and stays so while the lock is held: only an insert, which needs the lock, can
    // give it a live node again (its dead node stays dead, I2). So make's decision holds until I8.
    Record* const record = make(nullptr);
    if (record == nullptr) return PutOutcome::kDeclined;
    if (!shard.reserve_one(retired)) return PutOutcome::kOutOfMemory;
    Node* preds[kMaxHeight];
    Node* succs[kMaxHeight];
    Node* fresh = nullptr;  // allocated once, reused across retries
    while (true) {
      Node* node = find(key, preds, succs);
      if (node != nullptr) {
        // Under the lock only a dead node of this key can be in the list (I6).
        mark_tower(node);  // help its remover so find() snips it (I2), then insert anew
        continue;
      }
      if (fresh == nullptr) {
        fresh = Node::create(key, kPending, random_height());
        if (fresh == nullptr) return PutOutcome::kOutOfMemory;
      }
      for (int level = 0; level < fresh->height; ++level) {
        fresh->next(level).store(word_of(succs[level]), std::memory_order_relaxed);
      }
      std::uintptr_t expected = word_of(succs[0]);
      // acq_rel: release publishes the node's key, record and next words (I1: expected is unmarked).
      if (!preds[0]->next(0).compare_exchange_strong(expected, word_of(fresh), std::memory_order_acq_rel,
                                                     std::memory_order_acquire)) {
        continue;
      }
      counters_.add(kKeys);
      counters_.add(kBytes, key.size() + record->value_size());
      note_ttl(*record);
      build_tower(fresh, key, preds, succs);
      shard.insert(fresh);
      // I8: the insert's linearization point. release: publishes the record's bytes to readers that
      // load it with acquire, as every other store of a record pointer does.
      fresh->record.store(record, std::memory_order_release);
      release_owner(fresh, retired);
      *published = fresh;
      *record_out = record;
      return PutOutcome::kInserted;
    }
  }

  // Links levels 1.. of a node already linked at level 0. Stops as soon as the node is marked (I3).
  void build_tower(Node* node, std::string_view key, Node** preds, Node** succs) {
    int current_max = max_height_.load(std::memory_order_relaxed);
    while (node->height > current_max &&
           !max_height_.compare_exchange_weak(current_max, node->height, std::memory_order_relaxed)) {
    }
    for (int level = 1; level < node->height; ++level) {
      while (true) {
        std::uintptr_t old = node->next(level).load(std::memory_order_acquire);
        if (is_marked(old)) goto done;
        const std::uintptr_t succ = word_of(succs[level]);
        if (old != succ && !node->next(level).compare_exchange_strong(old, succ, std::memory_order_acq_rel,
                                                                      std::memory_order_acquire)) {
          goto done;  // only a mark can change an unlinked level's word
        }
        std::uintptr_t expected = succ;
        if (preds[level]->next(level).compare_exchange_strong(expected, word_of(node), std::memory_order_acq_rel,
                                                              std::memory_order_acquire)) {
          break;
        }
        find(key, preds, succs);
      }
    }
  done:
    // I4: if a remover marked the node while we linked, unlink whatever we linked.
    if (is_marked(node->next(0).load(std::memory_order_acquire))) find(key, preds, succs);
  }

  const Clock& clock_;
  const DecidingWriters* deciders_ = nullptr;
  Node* head_ = nullptr;
  PointIndex<Node> index_;
  std::atomic<int> max_height_{1};
  std::atomic<bool> has_ttls_{false};
  std::atomic<bool> removals_paused_{false};
  StripedCounters<3> counters_;

  // The finger (find_for_read()). store_id tells stores apart even at a reused address: a destroyed
  // store frees its nodes at once, so a finger into it must never be followed.
  struct Finger {
    std::uint64_t store_id;  // 0: none (ids start at 1)
    std::uint64_t epoch;
    Node* node;
  };
  static std::uint64_t next_store_id() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  const std::uint64_t id_ = next_store_id();
  static inline constinit thread_local Finger finger_{};
};

}  // namespace mantis::detail
