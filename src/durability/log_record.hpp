// The logical records of the write-ahead log: one per write or batch, the payload the framing in
// log_format.hpp carries.
//
// Encoding (integers little-endian; varint = LEB128 u32; bytes = varint length + that many bytes):
//
//   record  := lsn:u64  op:u8  body
//   body    := entry(op)                        for op in {put, erase, expire, persist, clear}
//            | count:u32  (op:u8 entry(op))*    for op = batch; count >= 1, ops in {put, erase,
//                                                expire, persist}, applied in order, all or nothing
//   entry(put)              := key:bytes  record:bytes   the new value's Record bytes exactly as the store
//                                                        holds them (flatbuffers: value + expires_at_ms + seq)
//   entry(expire | persist) := key:bytes  expires_at_ms:u64  seq:u64
//                                                        the key keeps its value and gets this expiry
//                                                        (0 = none) and seq, if it is present when applied
//   entry(erase)            := key:bytes
//   entry(clear)            := (nothing)
//
// Every write (and every batch) takes the next LSN: within a log, LSNs increase by exactly one
// (LsnChain checks that). Records are applied in LSN order, live and at replay alike, so an expire or
// persist (whose value is whatever the key holds when it is applied) replays to the same record.
// A record must be consumed exactly: trailing bytes are corruption.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/status.hpp>

namespace mantis::detail {

enum class LogOpType : std::uint8_t {
  kPut = 1,
  kErase = 2,
  kExpire = 3,
  kPersist = 4,
  kClear = 5,
  kBatch = 6,
};

// One operation; the views point into the encoded payload (decode) or the caller's data (encode).
struct LogOp {
  LogOpType type = LogOpType::kPut;
  std::string_view key;             // empty for clear
  std::string_view record;          // put: the Record bytes; empty otherwise
  std::uint64_t expires_at_ms = 0;  // expire and persist: the key's new expiry (0 = none)
  std::uint64_t seq = 0;            // expire and persist: the new record's seq
};

// A decoded logical record. Views into the payload it was decoded from: valid while that is.
struct LogRecord {
  std::uint64_t lsn = 0;
  LogOpType type = LogOpType::kPut;
  std::vector<LogOp> ops;  // exactly one for a single op, one or more for a batch
};

// Appends the encoding of a single op with `lsn` to *out. REQUIRES: op.type is not kBatch; key and
// record shorter than 4 GiB. Thread-safe (distinct outputs).
void append_log_record(std::string* out, std::uint64_t lsn, const LogOp& op);
// Appends the encoding of a batch with `lsn`. REQUIRES: ops non-empty, none kClear or kBatch.
void append_log_batch(std::string* out, std::uint64_t lsn, std::span<const LogOp> ops);

// Decodes `payload` into *record. Corruption saying what is wrong when it is malformed: truncated, an
// unknown op, a length past the end, trailing bytes (the caller, which knows where the record lies,
// prefixes the location; see located()). Allocates at most one LogOp per two payload bytes, whatever
// the count field says. Thread-safe.
Status decode_log_record(std::string_view payload, LogRecord* record);

// A Corruption `status` with "<location>: " before its message (location like "wal/000007.log offset
// 4096"); any other status unchanged. Callers make the location only once something is wrong.
Status located(std::string_view location, const Status& status);

}  // namespace mantis::detail
