#include "mvcc/snapshot_reads.hpp"

#include <string>
#include <vector>

namespace mantis::detail {

void SnapshotReads::collect(std::string_view start, bool inclusive, std::string_view end, bool bounded,
                            std::size_t limit, ScanBatch& batch) const {
  batch.clear();
  // The store's part of the range, records pinned (expired ones too: the snapshot judges expiry).
  std::vector<History::KeyState> current;
  std::vector<History::KeyState> past;
  struct Unpin {  // releases what the two parts pin, whatever happens
    std::vector<History::KeyState>& a;
    std::vector<History::KeyState>& b;
    ~Unpin() {
      for (auto* part : {&a, &b}) {
        for (const History::KeyState& s : *part) {
          if (s.record != nullptr) Record::unref(s.record);
        }
      }
    }
  } unpin{current, past};
  current.reserve(limit);
  std::string resume;
  const Store::Visited visited = store_.visit(
      start, inclusive, end, bounded, limit, &resume,
      [&current](std::string_view key, const Record& record) {
        current.push_back({std::string(key), nullptr});
        const_cast<Record&>(record).ref();  // inside the visit's critical section (store.hpp I5)
        current.back().record = const_cast<Record*>(&record);
        return true;
      },
      /*include_expired=*/true);
  const bool more = visited == Store::Visited::kMore;
  // Then the history over exactly the range the store part covered (V3: store first).
  if (more) {
    history_.states_at(start, inclusive, resume, /*bounded=*/true, at_.version, &past);
  } else {
    history_.states_at(start, inclusive, end, bounded, at_.version, &past);
    if (bounded) {
      while (!past.empty() && past.back().key >= end) {
        if (past.back().record != nullptr) Record::unref(past.back().record);
        past.pop_back();
      }
    }
  }
  // Merge: a key the history knows takes its past state; any other key its current record.
  std::size_t i = 0;
  std::size_t j = 0;
  auto emit = [&](History::KeyState& s) {
    if (s.record == nullptr || s.record->expired_at(at_.time_ms)) return;
    batch.add(s.key, s.record);  // the batch takes over the reference
    s.record = nullptr;
  };
  while (i < current.size() || j < past.size()) {
    if (j == past.size() || (i < current.size() && current[i].key < past[j].key)) {
      emit(current[i++]);
    } else if (i == current.size() || past[j].key < current[i].key) {
      emit(past[j++]);
    } else {  // both: the past state wins
      emit(past[j++]);
      ++i;
    }
  }
  batch.exhausted = !more;
  if (more) batch.set_resume_key(resume);
}

}  // namespace mantis::detail
