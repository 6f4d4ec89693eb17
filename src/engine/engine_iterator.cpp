#include "engine/engine_iterator.hpp"

#include <cassert>

namespace mantis::detail {

void EngineIterator::refill(std::string_view from, bool inclusive) {
  store_.collect(from, inclusive, {}, /*bounded=*/false, kBatchEntries, batch_);
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
    while (index_ < batch_.size() && store_.expired(batch_.record(index_))) ++index_;
    if (index_ < batch_.size() || batch_.exhausted) return;
    resume_key_.assign(batch_.resume_key());
    store_.collect(resume_key_, /*inclusive=*/false, {}, /*bounded=*/false, kBatchEntries, batch_);
    index_ = 0;
  }
}

}  // namespace mantis::detail
