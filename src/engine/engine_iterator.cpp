#include "engine/engine_iterator.hpp"

#include <cassert>

namespace mantis::detail {

void EngineIterator::collect(std::string_view from, bool inclusive) {
  if (at_) {
    at_->collect(from, inclusive, {}, /*bounded=*/false, kBatchEntries, batch_);
  } else {
    store_.collect(from, inclusive, {}, /*bounded=*/false, kBatchEntries, batch_);
  }
}

void EngineIterator::refill(std::string_view from, bool inclusive) {
  collect(from, inclusive);
  index_ = 0;
  settle();
}

void EngineIterator::next() {
  assert(valid());
  ++index_;
  settle();
}

void EngineIterator::settle() {
  while (true) {
    while (!at_ && index_ < batch_.size() && store_.expired(batch_.record(index_)) && !reread(index_)) ++index_;
    if (index_ < batch_.size() || batch_.exhausted) return;
    resume_key_.assign(batch_.resume_key());
    collect(resume_key_, /*inclusive=*/false);
    index_ = 0;
  }
}

bool EngineIterator::reread(std::size_t i) {
  // A read of the key now (store.hpp E1): a write that found the record live before its deadline
  // may have replaced it since the refill.
  Record* current = nullptr;
  store_.read(batch_.key(i), [&current](Record& record) {
    record.ref();  // inside the read's critical section (store.hpp I5)
    current = &record;
  });
  if (current == nullptr) return false;
  batch_.replace_record(i, current);
  return true;
}

}  // namespace mantis::detail
