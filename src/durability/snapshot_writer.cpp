#include "durability/snapshot_writer.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "durability/coding.hpp"
#include "durability/crc32c.hpp"
#include "durability/file_names.hpp"
#include "durability/snapshot_format.hpp"
#include "durability/snapshot_generated.h"

namespace mantis::detail {

struct SnapshotWriter::State {
  Env* env = nullptr;
  std::string dir;
  std::string temp_name;
  std::string final_name;
  std::string temp_path;
  std::unique_ptr<WritableFile> file;
  Status error;  // sticky: the first I/O error
  bool finished = false;
  std::uint64_t lsn = 0;
  std::uint64_t entries = 0;
  std::uint64_t chunks = 0;
  std::uint64_t bytes = 0;

  // The chunk being filled.
  std::vector<fbs::SnapshotEntry> chunk_entries;
  std::string keys;
  std::string records;  // heap-allocated (reserved), so its data is 8-aligned
  // The last key of the chunks already written (valid when entries > chunk_entries.size()).
  std::string last_flushed_key;
  flatbuffers::FlatBufferBuilder builder{1 << 16};

  std::string_view last_key() const noexcept {
    if (chunk_entries.empty()) return last_flushed_key;
    const std::uint32_t end = chunk_entries.back().key_end();
    const std::uint32_t start = chunk_entries.size() < 2 ? 0 : chunk_entries[chunk_entries.size() - 2].key_end();
    return std::string_view(keys).substr(start, end - start);
  }
  std::uint64_t chunk_bytes() const noexcept {
    return keys.size() + records.size() + chunk_entries.size() * sizeof(fbs::SnapshotEntry);
  }

  Status append(std::string_view data) {
    Status s = file->append(data);
    if (!s.ok()) {
      error = s;
      return s;
    }
    bytes += data.size();
    return s;
  }

  // Writes one frame: header, payload, zero padding to a multiple of 8.
  Status write_frame(SnapshotFrameType type, std::string_view payload) {
    static constexpr char kZeros[kSnapshotAlignment] = {};
    const std::uint64_t padded = snapshot_align(payload.size());
    const std::string_view padding(kZeros, padded - payload.size());
    char header[kSnapshotFrameHeaderSize] = {};
    header[4] = static_cast<char>(type);
    encode_fixed64(header + 8, padded);
    std::uint32_t crc = crc32c(std::string_view(header + kSnapshotFrameCrcCoveredOffset,
                                                kSnapshotFrameHeaderSize - kSnapshotFrameCrcCoveredOffset));
    crc = crc32c_extend(crc32c_extend(crc, payload), padding);
    encode_fixed32(header, mask_crc(crc));
    Status s = append(std::string_view(header, sizeof header));
    if (s.ok()) s = append(payload);
    if (s.ok() && !padding.empty()) s = append(padding);
    return s;
  }

  Status flush_chunk() {
    if (chunk_entries.empty()) return Status::ok_status();
    last_flushed_key.assign(last_key());
    builder.Clear();
    // Built back to front: records end up last in the buffer, after the entry table and the keys.
    builder.ForceVectorAlignment(records.size(), 1, kSnapshotAlignment);
    const auto records_vector =
        builder.CreateVector(reinterpret_cast<const std::uint8_t*>(records.data()), records.size());
    const auto keys_vector = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(keys.data()), keys.size());
    const auto entries_vector = builder.CreateVectorOfStructs(chunk_entries.data(), chunk_entries.size());
    builder.Finish(fbs::CreateSnapshotChunk(builder, entries_vector, keys_vector, records_vector));
    const Status s =
        write_frame(SnapshotFrameType::kChunk,
                    std::string_view(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize()));
    ++chunks;
    chunk_entries.clear();
    keys.clear();
    records.clear();
    // After an oversized entry, give its memory back rather than keeping it for the rest of the snapshot.
    if (builder.GetSize() > 2 * kSnapshotChunkTargetBytes) {
      builder.Reset();
      std::string().swap(keys);
      std::string().swap(records);
      records.reserve(kSnapshotChunkTargetBytes);
    }
    return s;
  }
};

SnapshotWriter::SnapshotWriter(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}

Status SnapshotWriter::create(Env* env, const std::string& dir, std::uint64_t lsn,
                              std::unique_ptr<SnapshotWriter>* out) {
  auto state = std::make_unique<State>();
  state->env = env;
  state->dir = dir;
  state->lsn = lsn;
  state->final_name = snapshot_file_name(lsn);
  state->temp_name = temp_file_name(state->final_name);
  state->temp_path = dir + "/" + state->temp_name;
  std::vector<std::string> names;
  Status s = env->list_dir(dir, &names);
  if (!s.ok()) return s;
  if (std::find(names.begin(), names.end(), state->temp_name) != names.end()) {
    s = env->remove_file(state->temp_path);  // left over from a crash while writing
    if (!s.ok()) return s;
  }
  s = env->new_writable_file(state->temp_path, &state->file);
  if (!s.ok()) return s;
  state->records.reserve(kSnapshotChunkTargetBytes);

  char header[kSnapshotHeaderSize] = {};
  kSnapshotMagic.copy(header, kSnapshotMagic.size());
  encode_fixed32(header + 8, kSnapshotFormatVersion);
  encode_fixed64(header + 16, lsn);
  encode_fixed32(header + kSnapshotHeaderCrcOffset,
                 mask_crc(crc32c(std::string_view(header, kSnapshotHeaderCrcOffset))));
  out->reset(new SnapshotWriter(std::move(state)));
  // On failure the destructor removes the temporary file.
  return (*out)->state_->append(std::string_view(header, sizeof header));
}

SnapshotWriter::~SnapshotWriter() {
  if (state_->finished) return;
  if (state_->file != nullptr) static_cast<void>(state_->file->close());
  static_cast<void>(state_->env->remove_file(state_->temp_path));
}

Status SnapshotWriter::add(std::string_view key, std::string_view record, std::uint64_t expires_at_ms) {
  State& st = *state_;
  if (!st.error.ok()) return st.error;
  if (st.finished) return Status::invalid_argument(st.final_name + ": add after finish");
  if (st.entries > 0 && key <= st.last_key()) {
    return Status::invalid_argument(st.final_name + ": keys out of order (not strictly ascending)");
  }
  if (key.size() + record.size() > kMaxSnapshotEntryBytes) {
    return Status::invalid_argument(st.final_name + ": entry too large for a snapshot chunk");
  }
  if (!st.chunk_entries.empty() &&
      st.chunk_bytes() + key.size() + snapshot_align(record.size()) + sizeof(fbs::SnapshotEntry) >
          kSnapshotChunkTargetBytes) {
    if (Status s = st.flush_chunk(); !s.ok()) return s;
  }
  // The record goes to an 8-aligned offset of an 8-aligned buffer, where it is checked in place.
  const std::size_t record_offset = st.records.size();
  st.records.append(record);
  if (record.empty() || !valid_snapshot_record(std::string_view(st.records).substr(record_offset), expires_at_ms)) {
    st.records.resize(record_offset);
    return Status::invalid_argument(st.final_name + ": not a Record flatbuffer with this expires_at_ms");
  }
  st.records.resize(snapshot_align(st.records.size()), '\0');
  st.keys.append(key);
  st.chunk_entries.emplace_back(expires_at_ms, static_cast<std::uint32_t>(st.keys.size()),
                                static_cast<std::uint32_t>(record_offset), static_cast<std::uint32_t>(record.size()));
  ++st.entries;
  return Status::ok_status();
}

Status SnapshotWriter::finish() {
  State& st = *state_;
  if (!st.error.ok()) return st.error;
  if (st.finished) return Status::ok_status();
  Status s = st.flush_chunk();
  if (s.ok()) {
    char footer[kSnapshotFooterPayloadSize];
    encode_fixed64(footer, st.lsn);
    encode_fixed64(footer + 8, st.entries);
    encode_fixed64(footer + 16, st.chunks);
    s = st.write_frame(SnapshotFrameType::kFooter, std::string_view(footer, sizeof footer));
  }
  if (s.ok()) s = st.file->sync();
  const Status closed = st.file->close();
  if (s.ok()) s = closed;
  if (s.ok()) s = st.env->rename_and_sync(st.dir, st.temp_name, st.final_name);
  if (!s.ok()) {
    st.error = s;
    return s;
  }
  st.finished = true;
  st.file.reset();
  return s;
}

std::uint64_t SnapshotWriter::entries() const noexcept { return state_->entries; }
std::uint64_t SnapshotWriter::bytes() const noexcept { return state_->bytes; }

}  // namespace mantis::detail
