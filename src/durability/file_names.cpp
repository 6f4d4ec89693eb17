#include "durability/file_names.hpp"

#include <charconv>
#include <cstdio>

#include "durability/log_format.hpp"
#include "env/file_lock.hpp"

namespace mantis::detail {
namespace {

constexpr std::string_view kLogSuffix = ".log";
constexpr std::string_view kSnapshotPrefix = "snap-";
constexpr std::string_view kSnapshotSuffix = ".snap";

// The whole of `digits` as a number no larger than `max`.
bool parse_number(std::string_view digits, std::uint64_t max, std::uint64_t* number) {
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, *number);
  return !digits.empty() && ec == std::errc() && ptr == end && *number <= max;
}

}  // namespace

std::string log_file_name(std::uint64_t segment) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%06llu", static_cast<unsigned long long>(segment));
  return std::string(kWalDirName) + "/" + digits + std::string(kLogSuffix);
}

std::string snapshot_file_name(std::uint64_t lsn) {
  return std::string(kSnapshotPrefix) + std::to_string(lsn) + std::string(kSnapshotSuffix);
}

std::string temp_file_name(std::string_view name) { return std::string(name) + std::string(kTempSuffix); }

FileKind parse_file_name(std::string_view name, std::uint64_t* number) {
  *number = 0;
  if (name == kManifestFileName) return FileKind::kManifest;
  if (name == kLockFileName) return FileKind::kLock;
  if (name.size() > kTempSuffix.size() && name.ends_with(kTempSuffix)) return FileKind::kTemp;
  // A number is accepted only in the one spelling the name functions produce (so "7.log" and
  // "snap-007.snap" are not taken for files of ours).
  if (name.ends_with(kLogSuffix)) {
    const std::string_view digits = name.substr(0, name.size() - kLogSuffix.size());
    if (parse_number(digits, kMaxLogSegmentNumber, number) &&
        log_file_name(*number) == std::string(kWalDirName) + "/" + std::string(name)) {
      return FileKind::kLog;
    }
  } else if (name.starts_with(kSnapshotPrefix) && name.ends_with(kSnapshotSuffix) &&
             name.size() > kSnapshotPrefix.size() + kSnapshotSuffix.size()) {
    const std::string_view digits =
        name.substr(kSnapshotPrefix.size(), name.size() - kSnapshotPrefix.size() - kSnapshotSuffix.size());
    if (parse_number(digits, UINT64_MAX, number) && snapshot_file_name(*number) == name) return FileKind::kSnapshot;
  }
  *number = 0;
  return FileKind::kUnknown;
}

}  // namespace mantis::detail
