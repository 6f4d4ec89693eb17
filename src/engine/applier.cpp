#include "engine/applier.hpp"

#include <algorithm>
#include <new>
#include <string>

#include "durability/snapshot_reader.hpp"
#include "durability/snapshot_writer.hpp"
#include "store/scan_batch.hpp"
#include "util/retire_list.hpp"

namespace mantis::detail {
namespace {

Status out_of_memory(std::string_view what) { return Status::resource_exhausted("out of memory " + std::string(what)); }

}  // namespace

Status Applier::apply(const Mutation& mutation, bool* found) {
  bool present = true;
  Status s;
  switch (mutation.type) {
    case LogOpType::kPut: {
      RetireList retired;  // destroyed after the store's critical section has ended
      const CacheTier::WriteWindow window(tier_, mutation.key);
      auto write_through = [&](const Record& published, const auto& is_current) {
        tier_.write_through(mutation.key, published, is_current, retired);
      };
      if (mutation.make != nullptr) {
        const auto outcome = store_.put_if(mutation.key, *mutation.make, write_through);
        if (outcome == Store::PutOutcome::kOutOfMemory) s = out_of_memory("storing key");
        present = outcome == Store::PutOutcome::kInserted || outcome == Store::PutOutcome::kReplaced;
        break;
      }
      Record* record = mutation.record;
      const auto outcome = store_.put_if(
          mutation.key, [record](const Record*) { return record; }, write_through);
      if (outcome == Store::PutOutcome::kOutOfMemory) {
        Record::unref(record);
        s = out_of_memory("storing key");
      }
      present = outcome == Store::PutOutcome::kReplaced;
      break;
    }
    case LogOpType::kErase: {
      const CacheTier::WriteWindow window(tier_, mutation.key);
      if (mutation.admit != nullptr) {
        present = store_.erase_if(mutation.key, *mutation.admit) == Store::EraseOutcome::kErased;
      } else {
        present = store_.erase(mutation.key);
      }
      tier_.erase(mutation.key);
      break;
    }
    case LogOpType::kExpire:
    case LogOpType::kPersist: {
      RetireList retired;  // destroyed after the store's critical section has ended
      const CacheTier::WriteWindow window(tier_, mutation.key);
      const auto outcome = store_.update(
          mutation.key,
          [&](const Record& current) { return Record::with_expiry(current, mutation.expires_at_ms, mutation.seq); },
          [&](const Record& published, const auto& is_current) {
            tier_.write_through(mutation.key, published, is_current, retired);
          });
      if (outcome == Store::UpdateOutcome::kOutOfMemory) {
        s = out_of_memory(mutation.type == LogOpType::kExpire ? "in expire" : "in persist");
      }
      present = outcome != Store::UpdateOutcome::kNotFound;
      break;
    }
    case LogOpType::kClear: {
      const CacheTier::WriteWindowAll window(tier_);
      store_.remove_all();
      tier_.clear();  // after the store (see CacheTier::clear)
      break;
    }
    case LogOpType::kBatch:
      return Status::invalid_argument("a batch is applied one operation at a time");
  }
  if (found != nullptr) *found = present;
  return s;
}

Status Applier::replay(const LogOp& op, std::string_view location) {
  Mutation mutation;
  mutation.type = op.type;
  mutation.key = op.key;
  switch (op.type) {
    case LogOpType::kPut:
      if (!Record::verify(op.record)) {
        return Status::corruption(std::string(location) + ": a put whose value is not a valid record");
      }
      mutation.record = Record::from_encoded(op.record);
      if (mutation.record == nullptr) return out_of_memory("replaying the log");
      max_seq_ = std::max(max_seq_, mutation.record->seq());
      break;
    case LogOpType::kExpire:
    case LogOpType::kPersist:
      mutation.expires_at_ms = op.expires_at_ms;
      mutation.seq = op.seq;
      max_seq_ = std::max(max_seq_, op.seq);
      break;
    case LogOpType::kErase:
    case LogOpType::kClear:
      break;
    case LogOpType::kBatch:
      return Status::corruption(std::string(location) + ": a batch inside a batch");
  }
  Status s = apply(mutation);
  if (s.is_resource_exhausted()) return out_of_memory("replaying the log");
  return s;
}

Status Applier::load_snapshot(SnapshotReader& reader, const std::string& name, std::uint64_t* entries) {
  RecordBacking* backing = RecordBacking::create(reader.file());
  if (backing == nullptr) return out_of_memory("loading " + name);
  const std::uint64_t now = store_.clock().now_ms();
  Store::Loader loader(store_);
  Status s;
  std::string_view key;
  std::string_view bytes;
  std::uint64_t expires_at_ms = 0;
  while (s.ok() && reader.next(&key, &bytes, &expires_at_ms)) {
    if (expires_at_ms != 0 && now >= expires_at_ms) continue;  // expired while the engine was closed
    Record* record = Record::mapped(bytes, backing);
    if (record == nullptr) {
      s = out_of_memory("loading " + name);
      break;
    }
    const Store::Appended appended = loader.append(key, record);
    if (appended != Store::Appended::kOk) {
      Record::unref(record);
      s = appended == Store::Appended::kOutOfMemory ? out_of_memory("loading " + name)
                                                    : Status::corruption(name + ": keys out of order");
      break;
    }
    max_seq_ = std::max(max_seq_, record->seq());
    ++*entries;
  }
  RecordBacking::unref(backing);  // the records hold their own references
  return s;
}

Status Applier::write_snapshot(SnapshotWriter& writer) {
  // The store's entries in key order, one batch per critical section, while writes go on.
  ScanBatch batch;
  std::string from;
  std::string encoding;  // a record's flatbuffer, made here unless the record is mapped
  bool inclusive = true;
  Status s;
  do {
    store_.collect(from, inclusive, {}, /*bounded=*/false, Store::kMaxCollect, batch);
    for (std::size_t i = 0; i < batch.size() && s.ok(); ++i) {
      const Record& record = batch.record(i);
      try {
        s = writer.add(batch.key(i), record.encoded(&encoding), record.expires_at_ms());
      } catch (const std::bad_alloc&) {
        s = out_of_memory("encoding a record for the snapshot");
      }
    }
    if (!s.ok()) return s;
    if (!batch.exhausted) {
      from.assign(batch.resume_key());
      inclusive = false;
    }
  } while (!batch.exhausted);
  return s;
}

}  // namespace mantis::detail
