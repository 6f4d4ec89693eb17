#include "durability/log_record.hpp"

#include <algorithm>
#include <cassert>

#include "durability/coding.hpp"

namespace mantis::detail {
namespace {

bool carries_expiry(LogOpType type) noexcept { return type == LogOpType::kExpire || type == LogOpType::kPersist; }

void append_entry(std::string* out, const LogOp& op) {
  if (op.type == LogOpType::kClear) return;
  put_length_prefixed(out, op.key);
  if (op.type == LogOpType::kPut) put_length_prefixed(out, op.record);
  if (carries_expiry(op.type)) {
    put_fixed64(out, op.expires_at_ms);
    put_fixed64(out, op.seq);
  }
}

void append_header(std::string* out, std::uint64_t lsn, LogOpType type) {
  put_fixed64(out, lsn);
  out->push_back(static_cast<char>(type));
}

// Decodes entry(type) from *in into *op; false when malformed.
bool get_entry(std::string_view* in, LogOpType type, LogOp* op) noexcept {
  op->type = type;
  if (type == LogOpType::kClear) return true;
  if (!get_length_prefixed(in, &op->key)) return false;
  if (type == LogOpType::kPut) return get_length_prefixed(in, &op->record);
  if (carries_expiry(type)) return get_fixed64(in, &op->expires_at_ms) && get_fixed64(in, &op->seq);
  return true;
}

bool is_single_op(std::uint8_t type) noexcept {
  return type >= static_cast<std::uint8_t>(LogOpType::kPut) && type <= static_cast<std::uint8_t>(LogOpType::kClear);
}

}  // namespace

void append_log_record(std::string* out, std::uint64_t lsn, const LogOp& op) {
  assert(op.type != LogOpType::kBatch);
  append_header(out, lsn, op.type);
  append_entry(out, op);
}

void append_log_batch(std::string* out, std::uint64_t lsn, std::span<const LogOp> ops) {
  assert(!ops.empty());
  assert(std::none_of(ops.begin(), ops.end(),
                      [](const LogOp& op) { return op.type == LogOpType::kClear || op.type == LogOpType::kBatch; }));
  append_header(out, lsn, LogOpType::kBatch);
  put_fixed32(out, static_cast<std::uint32_t>(ops.size()));
  for (const LogOp& op : ops) {
    out->push_back(static_cast<char>(op.type));
    append_entry(out, op);
  }
}

Status decode_log_record(std::string_view payload, LogRecord* record) {
  std::string_view in = payload;
  std::uint8_t type = 0;
  record->ops.clear();
  if (!get_fixed64(&in, &record->lsn) || !get_byte(&in, &type)) {
    return Status::corruption("log record shorter than its header");
  }
  if (is_single_op(type)) {
    record->type = static_cast<LogOpType>(type);
    LogOp op;
    if (!get_entry(&in, record->type, &op)) return Status::corruption("log record entry runs past its end");
    record->ops.push_back(op);
  } else if (type == static_cast<std::uint8_t>(LogOpType::kBatch)) {
    record->type = LogOpType::kBatch;
    std::uint32_t count = 0;
    if (!get_fixed32(&in, &count) || count == 0) return Status::corruption("batch without a valid count");
    // Each entry takes at least two bytes (op + key length): a larger count is malformed, so a hostile
    // count cannot make this reserve more than the payload justifies.
    if (count > in.size() / 2) return Status::corruption("batch count larger than the record");
    record->ops.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint8_t op_type = 0;
      LogOp op;
      if (!get_byte(&in, &op_type) || !is_single_op(op_type) ||
          op_type == static_cast<std::uint8_t>(LogOpType::kClear)) {
        return Status::corruption("batch entry with a bad op type");
      }
      if (!get_entry(&in, static_cast<LogOpType>(op_type), &op)) {
        return Status::corruption("batch entry runs past the record's end");
      }
      record->ops.push_back(op);
    }
  } else {
    return Status::corruption("log record with unknown op type " + std::to_string(type));
  }
  if (!in.empty()) return Status::corruption("log record has trailing bytes");
  return Status::ok_status();
}

Status located(std::string_view location, const Status& status) {
  if (!status.is_corruption()) return status;
  std::string message(location);
  message.append(": ").append(status.message());
  return Status::corruption(message);
}

}  // namespace mantis::detail
