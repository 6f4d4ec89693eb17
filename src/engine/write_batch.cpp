#include <mantis/write_batch.hpp>

namespace mantis {

void WriteBatch::put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  ops_.push_back(Op{Op::Kind::kPut, std::string(key), std::string(value), ttl});
}

void WriteBatch::erase(std::string_view key) {
  ops_.push_back(Op{Op::Kind::kErase, std::string(key), std::string(), std::chrono::milliseconds{0}});
}

}  // namespace mantis
