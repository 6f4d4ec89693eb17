// libFuzzer target for the snapshot reader (run with tests/fuzz/run.sh SECONDS snapshot_reader).
//
// Input: byte 0 picks the mode, the rest is data; the resulting bytes are written to a file (the reader
// reads files only) in a private directory under /dev/shm (or /tmp), opened and iterated.
//   even mode byte: the data is the snapshot file's raw bytes.
//   odd mode byte:  the data is cut into entries (key length byte, key, value length byte, value,
//                   expiry byte) up to a 0xff key length byte; the entries (sorted, keys made unique) are
//                   written by a real SnapshotWriter, then each 3 bytes of the rest of the data overwrite
//                   one byte of the file (a 16-bit position modulo the size, then the byte), so that
//                   checksums are valid wherever nothing was overwritten and damage reaches every check.
// Invariants checked (a violation aborts): open() returns OK or Corruption naming the file; after OK,
// next() yields exactly entries() entries with keys strictly ascending, every key and record inside the
// mapping, every record 8-aligned and a valid Record flatbuffer carrying the entry's expiry.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "durability/snapshot_format.hpp"
#include "durability/snapshot_reader.hpp"
#include "durability/snapshot_writer.hpp"
#include "flatbuffers/flatbuffers.h"
#include "store/record_generated.h"

namespace {

using mantis::Status;
using namespace mantis::detail;

void require(bool condition) {
  if (!condition) std::abort();
}

// A private directory, removed with its files at exit.
struct WorkDir {
  WorkDir() {
    path = (std::filesystem::exists("/dev/shm") ? std::string("/dev/shm") : std::string("/tmp")) +
           "/mantis-snapshot-fuzz-XXXXXX";
    require(::mkdtemp(path.data()) != nullptr);
  }
  ~WorkDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

const std::string& work_dir() {
  static const WorkDir dir;
  return dir.path;
}

std::string record_bytes(std::string_view value, std::uint64_t expires_at_ms) {
  flatbuffers::FlatBufferBuilder builder;
  builder.ForceVectorAlignment(value.size(), 1, 8);
  const auto bytes = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(value.data()), value.size());
  builder.Finish(mantis::fbs::CreateRecord(builder, bytes, expires_at_ms, 1));
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
}

std::string_view take(std::string_view* data, std::size_t n) {
  n = std::min(n, data->size());
  const std::string_view out = data->substr(0, n);
  data->remove_prefix(n);
  return out;
}

// A writer-made snapshot of the entries the data describes, with bytes overwritten.
std::string written_and_damaged(std::string_view data) {
  std::map<std::string, std::pair<std::string, std::uint64_t>> entries;
  while (!data.empty()) {
    const auto key_length = static_cast<std::uint8_t>(data[0]);
    data.remove_prefix(1);
    if (key_length == 0xff) break;
    const std::string key(take(&data, key_length));
    const std::size_t value_length = data.empty() ? 0 : static_cast<std::uint8_t>(take(&data, 1)[0]);
    const std::string value(take(&data, value_length));
    const std::uint64_t expiry = data.empty() ? 0 : static_cast<std::uint8_t>(take(&data, 1)[0]);
    entries[key] = {value, expiry};
  }
  std::unique_ptr<SnapshotWriter> writer;
  require(SnapshotWriter::create(Env::posix(), work_dir(), 7, &writer).ok());
  for (const auto& [key, entry] : entries)
    require(writer->add(key, record_bytes(entry.first, entry.second), entry.second).ok());
  require(writer->finish().ok());
  const std::string path = work_dir() + "/" + "snap-7.snap";
  std::ifstream in(path, std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), {});
  std::filesystem::remove(path);
  for (; data.size() >= 3 && !file.empty(); data.remove_prefix(3)) {
    const std::size_t at = (static_cast<std::uint8_t>(data[0]) | static_cast<std::uint8_t>(data[1]) << 8) % file.size();
    file[at] = data[2];
  }
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = bytes[0];
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const std::string contents = (mode & 1) != 0 ? written_and_damaged(data) : std::string(data);
  const std::string path = work_dir() + "/input";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    require(out.good());
  }
  std::unique_ptr<SnapshotReader> reader;
  const Status s = SnapshotReader::open(Env::posix(), path, "snap-7.snap", &reader);
  if (!s.ok()) {
    require(s.is_corruption() && s.message().starts_with("snap-7.snap offset "));
    return 0;
  }
  const std::string_view mapped = reader->file()->data();
  require(mapped == contents);
  std::string previous;
  std::uint64_t n = 0;
  std::string_view key;
  std::string_view record;
  std::uint64_t expires = 0;
  std::uint32_t value_size = 0;
  while (reader->next(&key, &record, &expires, &value_size)) {
    require(key.data() >= mapped.data() && key.data() + key.size() <= mapped.data() + mapped.size());
    require(record.data() >= mapped.data() && record.data() + record.size() <= mapped.data() + mapped.size());
    require(reinterpret_cast<std::uintptr_t>(record.data()) % 8 == 0);
    SnapshotRecordFacts facts;
    require(valid_snapshot_record(record, expires, &facts));
    require(facts.value_size == value_size && facts.seq <= reader->max_seq());
    require(n == 0 || key > previous);
    previous.assign(key);
    ++n;
  }
  require(n == reader->entries());
  return 0;
}
