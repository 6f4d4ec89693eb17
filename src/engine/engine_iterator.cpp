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
    while (!at_ && index_ < batch_.size() && store_.expired(batch_.record(index_))) ++index_;
    if (index_ < batch_.size() || batch_.exhausted) return;
    resume_key_.assign(batch_.resume_key());
    collect(resume_key_, /*inclusive=*/false);
    index_ = 0;
  }
}

}  // namespace mantis::detail
