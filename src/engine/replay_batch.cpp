#include "engine/replay_batch.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace mantis::detail {
namespace {

// What sort() orders by at one depth: eight key bytes from `depth` on as a big-endian integer (zero
// past the key's end), how many of them the key has (so a key sorts before its extensions), and the
// operation's position (log order, for equal keys).
struct SortItem {
  std::uint64_t word;
  std::uint32_t bytes;  // 0..8
  std::uint32_t index;

  bool operator<(const SortItem& other) const noexcept {
    return std::tie(word, bytes, index) < std::tie(other.word, other.bytes, other.index);
  }
};

std::uint64_t key_word(std::string_view key, std::size_t depth, std::uint32_t* bytes) noexcept {
  const std::size_t n = depth < key.size() ? std::min<std::size_t>(8, key.size() - depth) : 0;
  unsigned char buffer[8] = {};
  if (n != 0) std::memcpy(buffer, key.data() + depth, n);
  std::uint64_t word = 0;
  for (unsigned char byte : buffer) word = word << 8 | byte;
  *bytes = static_cast<std::uint32_t>(n);
  return word;
}

}  // namespace

void ReplayBatch::add(LogOpType type, std::string_view key, Record* record, std::uint64_t expires_at_ms,
                      std::uint64_t seq) {
  if (ops_.capacity() == 0) {  // a full batch's worth at once: no copying as it grows
    ops_.reserve(kMaxOps);
    keys_.reserve(kMaxOps * 16);
  }
  const std::size_t offset = keys_.size();
  keys_.append(key);
  try {
    ops_.push_back(Op{type, record, expires_at_ms, seq, offset, static_cast<std::uint32_t>(key.size())});
  } catch (...) {
    keys_.resize(offset);
    throw;
  }
}

void ReplayBatch::sort() {
  std::vector<SortItem, Allocator<SortItem>> items(ops_.size());
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    items[i].index = static_cast<std::uint32_t>(i);
    items[i].word = key_word(key(ops_[i]), 0, &items[i].bytes);
  }
  // Ranges of items whose keys agree on their first `depth` bytes, each still to be sorted on the next
  // eight: a work list rather than recursion, so that long shared prefixes cannot exhaust the stack.
  struct Range {
    std::size_t begin, end, depth;
  };
  starts_key_.assign(items.size(), false);
  std::vector<Range> pending{{0, items.size(), 0}};
  while (!pending.empty()) {
    const Range range = pending.back();
    pending.pop_back();
    if (range.depth != 0) {
      for (std::size_t i = range.begin; i < range.end; ++i) {
        items[i].word = key_word(key(ops_[items[i].index]), range.depth, &items[i].bytes);
      }
    }
    // Logs written in key order, and keys that share these eight bytes, arrive sorted already.
    if (!std::is_sorted(items.begin() + range.begin, items.begin() + range.end)) {
      std::sort(items.begin() + range.begin, items.begin() + range.end);
    }
    // Runs that agree on all eight bytes may differ further on: sort each again on the next eight.
    // A run that ends inside these eight bytes is one key; where runs meet, keys differ.
    for (std::size_t begin = range.begin; begin < range.end;) {
      std::size_t end = begin + 1;
      while (end < range.end && items[end].word == items[begin].word && items[end].bytes == items[begin].bytes) ++end;
      starts_key_[begin] = true;
      if (end - begin > 1 && items[begin].bytes == 8) pending.push_back({begin, end, range.depth + 8});
      begin = end;
    }
  }
  order_.resize(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) order_[i] = items[i].index;
}

void ReplayBatch::clear() noexcept {
  for (Op& op : ops_) {
    if (op.record != nullptr) Record::unref(op.record);
  }
  ops_.clear();
  keys_.clear();
  order_.clear();
  starts_key_.clear();
}

}  // namespace mantis::detail
