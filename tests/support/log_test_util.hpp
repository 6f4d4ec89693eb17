// Helpers shared by the log tests: writing a segment, reading one back, hand-made fragments.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "durability/coding.hpp"
#include "durability/file_names.hpp"
#include "durability/log_format.hpp"
#include "durability/log_reader.hpp"
#include "durability/log_writer.hpp"
#include "env/env.hpp"
#include "temp_dir.hpp"

namespace mantis::test {

using detail::encode_fixed16;
using detail::encode_fixed32;
using detail::Env;
using detail::fragment_crc;
using detail::FragmentType;
using detail::kLogCrcCoveredHeaderOffset;
using detail::kLogHeaderSize;
using detail::kWalDirName;
using detail::log_file_name;
using detail::LogReader;
using detail::LogWriter;
using detail::MappedFile;
using detail::WritableFile;

inline std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// A segment as written: its bytes and where each record starts and ends.
struct Segment {
  std::uint64_t number = 0;
  std::string contents;
  std::vector<std::uint64_t> starts;
  std::vector<std::uint64_t> ends;
};

// Writes `payloads` as log segment `number` into `dir` (creating wal/) and reads the file back.
inline Segment write_segment(const TempDir& dir, std::uint64_t number, const std::vector<std::string>& payloads,
                             Env* env = Env::posix()) {
  REQUIRE(env->create_dir(dir / std::string(kWalDirName)).ok());
  std::unique_ptr<WritableFile> file;
  const Status opened = env->new_writable_file(dir / log_file_name(number), &file);
  INFO(opened.to_string());
  REQUIRE(opened.ok());
  LogWriter writer(std::move(file), number);
  Segment segment;
  segment.number = number;
  for (const std::string& payload : payloads) {
    segment.starts.push_back(writer.size());
    REQUIRE(writer.add_record(payload).ok());
    segment.ends.push_back(writer.size());
  }
  REQUIRE(writer.sync().ok());
  REQUIRE(writer.close().ok());
  std::shared_ptr<const MappedFile> mapped;
  REQUIRE(env->map_file(dir / log_file_name(number), &mapped).ok());
  segment.contents = std::string(mapped->data());
  return segment;
}

struct ReadBack {
  std::vector<std::string> records;
  std::vector<std::uint64_t> offsets;
  Status status;
  std::uint64_t valid_end = 0;
  bool torn = false;
};

inline ReadBack read_segment(std::string_view contents, std::uint64_t number, bool last_segment) {
  LogReader reader(contents, log_file_name(number), number, last_segment);
  ReadBack back;
  std::string_view payload;
  while (reader.read(&payload)) {
    REQUIRE(payload.size() <= contents.size());
    back.records.emplace_back(payload);
    back.offsets.push_back(reader.record_offset());
  }
  CHECK_FALSE(reader.read(&payload));  // the end is sticky
  back.status = reader.status();
  back.valid_end = reader.valid_end();
  back.torn = reader.torn_tail();
  return back;
}

// One fragment built by hand, for damage the writer never produces.
inline std::string fragment(FragmentType type, std::uint32_t segment, std::string_view payload) {
  std::string out(kLogHeaderSize, '\0');
  encode_fixed16(out.data() + 4, static_cast<std::uint16_t>(payload.size()));
  out[6] = static_cast<char>(type);
  encode_fixed32(out.data() + 7, segment);
  out.append(payload);
  encode_fixed32(out.data(), fragment_crc(std::string_view(out).substr(kLogCrcCoveredHeaderOffset)));
  return out;
}

}  // namespace mantis::test
