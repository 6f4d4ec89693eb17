// libFuzzer target for the log reader and the logical record decoder (run with tests/fuzz/run.sh).
//
// Input: byte 0 picks the mode, the rest is data.
//   even mode byte: the data is a segment's raw bytes, read as segment 1.
//   odd mode byte:  the data is cut into payloads (a length byte, then that many bytes), framed by a real
//                   LogWriter into memory, then bytes of the data overwrite the framed segment at
//                   positions the data also picks; checksums are valid wherever nothing was overwritten,
//                   so the fuzzer reaches the record decoder and the fragment-order checks.
// Bit 1 of the mode byte: read as the last segment (a torn tail is then a clean end).
// Invariants checked (a violation aborts): every record fits in the input, the status is OK or
// Corruption naming the segment, valid_end() is within the segment, and decoding never misbehaves.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "durability/log_reader.hpp"
#include "durability/log_record.hpp"
#include "durability/log_writer.hpp"

namespace {

using mantis::Status;
using namespace mantis::detail;

// An in-memory WritableFile, so that the fuzzer never touches the disk.
class StringFile final : public WritableFile {
 public:
  explicit StringFile(std::string* contents) : contents_(contents) {}
  Status append(std::string_view data) override {
    contents_->append(data);
    return Status::ok_status();
  }
  Status sync() override { return Status::ok_status(); }
  Status preallocate(std::uint64_t) override { return Status::ok_status(); }
  Status close() override { return Status::ok_status(); }
  std::uint64_t size() const noexcept override { return contents_->size(); }
  const std::string& path() const noexcept override { return path_; }

 private:
  std::string* contents_;
  const std::string path_ = "memory";
};

void require(bool condition) {
  if (!condition) std::abort();
}

std::string framed_and_damaged(std::string_view data) {
  std::string segment;
  LogWriter writer(std::make_unique<StringFile>(&segment), 1);
  std::vector<std::string> payloads;
  while (!data.empty()) {
    const std::size_t length = std::min<std::size_t>(static_cast<std::uint8_t>(data[0]), data.size() - 1);
    if (length == 0xff) {  // a marker: the rest of the data overwrites the framed segment
      data.remove_prefix(1);
      break;
    }
    payloads.emplace_back(data.substr(1, length));
    data.remove_prefix(1 + length);
  }
  for (const std::string& payload : payloads) require(writer.add_record(payload).ok());
  // Each 3 bytes: a 16-bit position (modulo the size) and the byte to write there.
  for (; data.size() >= 3 && !segment.empty(); data.remove_prefix(3)) {
    const std::size_t at =
        (static_cast<std::uint8_t>(data[0]) | static_cast<std::uint8_t>(data[1]) << 8) % segment.size();
    segment[at] = data[2];
  }
  return segment;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = bytes[0];
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const std::string segment = (mode & 1) != 0 ? framed_and_damaged(data) : std::string(data);
  LogReader reader(segment, "wal/000001.log", 1, (mode & 2) != 0);
  std::string_view payload;
  while (reader.read(&payload)) {
    require(payload.size() <= segment.size());
    LogRecord record;
    const Status s = decode_log_record(payload, &record);
    require(s.ok() || s.is_corruption());
    for (const LogOp& op : record.ops) require(op.key.size() + op.record.size() <= payload.size());
  }
  require(reader.status().ok() || reader.status().message().starts_with("wal/000001.log offset "));
  require(reader.valid_end() <= segment.size());
  return 0;
}
