#include "durability/snapshot_reader.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "durability/coding.hpp"
#include "durability/crc32c.hpp"
#include "durability/snapshot_format.hpp"
#include "durability/snapshot_generated.h"
#include "env/io_status.hpp"
#include "store/record_generated.h"

namespace mantis::detail {

bool valid_snapshot_record(std::string_view record, std::uint64_t expires_at_ms, SnapshotRecordFacts* facts) noexcept {
  assert(reinterpret_cast<std::uintptr_t>(record.data()) % 8 == 0);
  if (record.size() > kMaxSnapshotChunkBytes) return false;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(record.data());
  flatbuffers::Verifier verifier(bytes, record.size(), flatbuffers::Verifier::Options{});
  if (!verifier.VerifyBuffer<fbs::Record>(nullptr)) return false;
  const fbs::Record* root = flatbuffers::GetRoot<fbs::Record>(bytes);
  if (root->expires_at_ms() != expires_at_ms) return false;
  if (facts != nullptr) {
    facts->value_size = root->value() == nullptr ? 0 : root->value()->size();
    facts->seq = root->seq();
  }
  return true;
}

namespace {

// Reads a snapshot file with pread (never through a mapping), into one reusable page-aligned buffer. The
// buffer is an anonymous mapping of its own, so that its pages are returned to the system when open()
// ends instead of staying in the heap (the resident memory after open() is what matters).
class FileReader {
 public:
  FileReader(std::string path, std::string name) : path_(std::move(path)), name_(std::move(name)) {}
  ~FileReader() {
    if (fd_ >= 0) ::close(fd_);
    if (buffer_ != nullptr) ::munmap(buffer_, capacity_);
  }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  Status open() {
    Status s = open_file(path_, O_RDONLY | O_CLOEXEC, 0, &fd_, &size_);
    if (!s.ok()) return s;
    static_cast<void>(::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL));  // a hint: more readahead
    return Status::ok_status();
  }
  std::uint64_t size() const noexcept { return size_; }

  // `n` bytes at `offset` into the buffer. REQUIRES: offset + n <= size() (so the buffer never grows past
  // the file's size, whatever a length field claims).
  Status read(std::uint64_t offset, std::size_t n, std::string_view* out) {
    assert(offset + n <= size_);
    if (n > capacity_) {
      if (buffer_ != nullptr) ::munmap(buffer_, capacity_);
      buffer_ = nullptr;
      const std::size_t capacity = (n + kPage - 1) / kPage * kPage;
      void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) {
        capacity_ = 0;
        return io_status(path_, "mmap (read buffer)", errno);
      }
      buffer_ = static_cast<char*>(p);
      capacity_ = capacity;
    }
    char* data = buffer_;
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r =
          retry_on_eintr([&] { return ::pread(fd_, data + done, n - done, static_cast<off_t>(offset + done)); });
      if (r < 0) return io_status(path_, "pread", errno);
      if (r == 0) return Status::io_error(path_ + ": pread: file shrank while being read");
      done += static_cast<std::size_t>(r);
    }
    *out = std::string_view(data, n);
    return Status::ok_status();
  }

  Status corrupt(std::uint64_t offset, std::string_view what) const {
    return Status::corruption(name_ + " offset " + std::to_string(offset) + ": " + std::string(what));
  }

 private:
  const std::string path_;
  const std::string name_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  static constexpr std::size_t kPage = 4096;
  char* buffer_ = nullptr;  // page-aligned, reused for every frame
  std::size_t capacity_ = 0;
};

// What the verification of the chunks leaves for the footer and for next().
struct Progress {
  std::uint64_t entries = 0;
  std::vector<std::uint64_t> chunk_offsets;  // file offsets of the chunks' flatbuffers
  std::string last_key;                      // valid when entries > 0
  std::vector<std::uint32_t> value_sizes;    // each entry's, in order
  std::uint64_t max_seq = 0;
};

// Checks one chunk's flatbuffer, `chunk`, read from file offset `offset` (its frame's offset `at`).
Status verify_chunk(const FileReader& reader, std::uint64_t at, std::uint64_t offset, std::string_view chunk,
                    Progress* progress) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(chunk.data());
  flatbuffers::Verifier verifier(bytes, chunk.size(), flatbuffers::Verifier::Options{});
  if (!verifier.VerifyBuffer<fbs::SnapshotChunk>(nullptr)) return reader.corrupt(at, "malformed chunk flatbuffer");
  const fbs::SnapshotChunk* root = flatbuffers::GetRoot<fbs::SnapshotChunk>(bytes);
  const auto* entries = root->entries();
  const auto* keys = root->keys();
  const auto* records = root->records();
  if (entries == nullptr || keys == nullptr || records == nullptr) return reader.corrupt(at, "chunk misses a field");
  if (entries->size() == 0) return reader.corrupt(at, "empty chunk");
  const auto records_start = static_cast<std::uint64_t>(records->data() - bytes);
  if ((offset + records_start) % kSnapshotAlignment != 0) return reader.corrupt(at, "records not 8-aligned");
  const std::string_view key_bytes(reinterpret_cast<const char*>(keys->data()), keys->size());
  const std::string_view record_bytes(reinterpret_cast<const char*>(records->data()), records->size());
  std::string_view previous = progress->last_key;
  bool has_previous = progress->entries > 0;
  std::uint64_t key_start = 0;
  std::uint64_t record_end = 0;
  for (const fbs::SnapshotEntry* entry : *entries) {
    const std::uint64_t key_end = entry->key_end();
    if (key_end < key_start || key_end > key_bytes.size()) return reader.corrupt(at, "key out of bounds");
    const std::string_view key = key_bytes.substr(key_start, key_end - key_start);
    if (has_previous && key <= previous) return reader.corrupt(at, "keys not strictly ascending");
    const std::uint64_t record_offset = entry->record_offset();
    const std::uint64_t record_length = entry->record_length();
    if (record_offset != snapshot_align(record_end)) return reader.corrupt(at, "record not where expected");
    if (record_length == 0 || record_offset > record_bytes.size() ||
        record_length > record_bytes.size() - record_offset) {
      return reader.corrupt(at, "record out of bounds");
    }
    SnapshotRecordFacts facts;
    if (!valid_snapshot_record(record_bytes.substr(record_offset, record_length), entry->expires_at_ms(), &facts)) {
      return reader.corrupt(at, "malformed record");
    }
    progress->value_sizes.push_back(facts.value_size);
    progress->max_seq = std::max(progress->max_seq, facts.seq);
    previous = key;
    has_previous = true;
    key_start = key_end;
    record_end = record_offset + record_length;
  }
  if (key_start != key_bytes.size()) return reader.corrupt(at, "unused key bytes");
  if (snapshot_align(record_end) != record_bytes.size()) return reader.corrupt(at, "unused record bytes");
  progress->last_key.assign(previous);
  progress->entries += entries->size();
  progress->chunk_offsets.push_back(offset);
  return Status::ok_status();
}

Status verify_header(FileReader& reader, std::uint64_t* lsn) {
  if (reader.size() < kSnapshotHeaderSize) return reader.corrupt(0, "too short for a snapshot header");
  std::string_view header;
  if (Status s = reader.read(0, kSnapshotHeaderSize, &header); !s.ok()) return s;
  if (!header.starts_with(kSnapshotMagic)) return reader.corrupt(0, "not a mantis snapshot (bad magic)");
  if (decode_fixed32(header.data() + kSnapshotHeaderCrcOffset) !=
      mask_crc(crc32c(header.substr(0, kSnapshotHeaderCrcOffset)))) {
    return reader.corrupt(0, "header checksum mismatch");
  }
  const std::uint32_t version = decode_fixed32(header.data() + 8);
  if (version != kSnapshotFormatVersion) {
    return reader.corrupt(0, "unsupported snapshot format version " + std::to_string(version));
  }
  if (decode_fixed32(header.data() + 12) != 0 || decode_fixed32(header.data() + 24) != 0) {
    return reader.corrupt(0, "reserved header bytes not zero");
  }
  *lsn = decode_fixed64(header.data() + 16);
  return Status::ok_status();
}

// Verifies the whole file; fills the counts and chunk offsets.
Status verify_file(FileReader& reader, std::uint64_t* lsn, Progress* progress) {
  if (Status s = verify_header(reader, lsn); !s.ok()) return s;
  std::uint64_t at = kSnapshotHeaderSize;
  for (;;) {
    const std::uint64_t left = reader.size() - at;
    if (left == 0) return reader.corrupt(at, "truncated: no footer");
    if (left < kSnapshotFrameHeaderSize) return reader.corrupt(at, "truncated frame header");
    char header_copy[kSnapshotFrameHeaderSize];  // the payload's read reuses the buffer
    {
      std::string_view read;
      if (Status s = reader.read(at, kSnapshotFrameHeaderSize, &read); !s.ok()) return s;
      read.copy(header_copy, sizeof header_copy);
    }
    const std::string_view header(header_copy, sizeof header_copy);
    const std::uint32_t stored_crc = decode_fixed32(header.data());
    const auto type = static_cast<std::uint8_t>(header[4]);
    const std::uint64_t length = decode_fixed64(header.data() + 8);
    if (length > left - kSnapshotFrameHeaderSize) return reader.corrupt(at, "frame runs past the end of the file");
    if (length % kSnapshotAlignment != 0) return reader.corrupt(at, "frame length not a multiple of 8");
    if (type == static_cast<std::uint8_t>(SnapshotFrameType::kChunk) && length > kMaxSnapshotChunkBytes) {
      return reader.corrupt(at, "chunk larger than a flatbuffer");
    }
    if (type == static_cast<std::uint8_t>(SnapshotFrameType::kFooter) && length != kSnapshotFooterPayloadSize) {
      return reader.corrupt(at, "bad footer length");
    }
    std::uint32_t crc = crc32c(header.substr(kSnapshotFrameCrcCoveredOffset));
    std::string_view payload;
    if (Status s = reader.read(at + kSnapshotFrameHeaderSize, static_cast<std::size_t>(length), &payload); !s.ok()) {
      return s;
    }
    crc = crc32c_extend(crc, payload);
    if (mask_crc(crc) != stored_crc) return reader.corrupt(at, "checksum mismatch");
    if (header[5] != 0 || header[6] != 0 || header[7] != 0) return reader.corrupt(at, "reserved frame bytes not zero");
    if (type == static_cast<std::uint8_t>(SnapshotFrameType::kChunk)) {
      if (Status s = verify_chunk(reader, at, at + kSnapshotFrameHeaderSize, payload, progress); !s.ok()) return s;
      at += kSnapshotFrameHeaderSize + length;
      continue;
    }
    if (type != static_cast<std::uint8_t>(SnapshotFrameType::kFooter)) {
      return reader.corrupt(at, "unknown frame type " + std::to_string(type));
    }
    if (decode_fixed64(payload.data()) != *lsn) return reader.corrupt(at, "footer LSN differs from the header's");
    if (decode_fixed64(payload.data() + 8) != progress->entries) return reader.corrupt(at, "entry count mismatch");
    if (decode_fixed64(payload.data() + 16) != progress->chunk_offsets.size()) {
      return reader.corrupt(at, "chunk count mismatch");
    }
    const std::uint64_t end = at + kSnapshotFrameHeaderSize + length;
    if (end != reader.size()) {
      return reader.corrupt(end, std::to_string(reader.size() - end) + " bytes after the footer");
    }
    return Status::ok_status();
  }
}

}  // namespace

struct SnapshotReader::State {
  std::string name;
  std::uint64_t lsn = 0;
  std::uint64_t entries = 0;
  std::shared_ptr<const MappedFile> file;
  std::vector<std::uint64_t> chunk_offsets;
  std::vector<std::uint32_t> value_sizes;
  std::uint64_t max_seq = 0;
  std::uint64_t next_index = 0;  // of the next entry in the file
  // Iteration: the chunk being read (nullptr before the first) and the next entry in it.
  std::size_t next_chunk = 0;
  const fbs::SnapshotChunk* chunk = nullptr;
  std::uint32_t next_entry = 0;
  std::uint32_t key_start = 0;
};

SnapshotReader::SnapshotReader(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
SnapshotReader::~SnapshotReader() = default;

Status SnapshotReader::open(Env* env, const std::string& path, std::string name, std::unique_ptr<SnapshotReader>* out) {
  auto state = std::make_unique<State>();
  Progress progress;
  std::uint64_t size = 0;
  {
    FileReader reader(path, name);
    if (Status s = reader.open(); !s.ok()) return s;
    if (Status s = verify_file(reader, &state->lsn, &progress); !s.ok()) return s;
    size = reader.size();
  }  // the buffer is freed before the file is mapped
  if (Status s = env->map_file(path, &state->file); !s.ok()) return s;
  if (state->file->size() != size) return Status::io_error(path + ": changed size while being opened");
  state->name = std::move(name);
  state->entries = progress.entries;
  state->chunk_offsets = std::move(progress.chunk_offsets);
  state->value_sizes = std::move(progress.value_sizes);
  state->max_seq = progress.max_seq;
  out->reset(new SnapshotReader(std::move(state)));
  return Status::ok_status();
}

std::uint64_t SnapshotReader::lsn() const noexcept { return state_->lsn; }
std::uint64_t SnapshotReader::entries() const noexcept { return state_->entries; }
std::uint64_t SnapshotReader::max_seq() const noexcept { return state_->max_seq; }
const std::shared_ptr<const MappedFile>& SnapshotReader::file() const noexcept { return state_->file; }

bool SnapshotReader::next(std::string_view* key, std::string_view* record, std::uint64_t* expires_at_ms,
                          std::uint32_t* value_size) {
  State& st = *state_;
  // Everything was verified by open(): the accessors below read the mapping without further checks.
  while (st.chunk == nullptr || st.next_entry == st.chunk->entries()->size()) {
    if (st.next_chunk == st.chunk_offsets.size()) return false;
    st.chunk = flatbuffers::GetRoot<fbs::SnapshotChunk>(st.file->data().data() + st.chunk_offsets[st.next_chunk++]);
    st.next_entry = 0;
    st.key_start = 0;
  }
  const fbs::SnapshotEntry* entry = st.chunk->entries()->Get(st.next_entry++);
  const auto* keys = reinterpret_cast<const char*>(st.chunk->keys()->data());
  *key = std::string_view(keys + st.key_start, entry->key_end() - st.key_start);
  st.key_start = entry->key_end();
  *record = std::string_view(reinterpret_cast<const char*>(st.chunk->records()->data()) + entry->record_offset(),
                             entry->record_length());
  *expires_at_ms = entry->expires_at_ms();
  *value_size = st.value_sizes[st.next_index++];
  return true;
}

}  // namespace mantis::detail
