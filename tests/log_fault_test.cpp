// The log under failure: injected write and sync errors, a simulated power cut, a really full disk,
// and thousands of random mutations of a segment's bytes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <sys/mount.h>
#include <unistd.h>

#include "durability/log_record.hpp"
#include "env/fault_injection_env.hpp"
#include "log_test_util.hpp"

namespace mantis::detail {
namespace {

using test::random_bytes;
using test::read_segment;
using test::ReadBack;
using test::TempDir;

std::vector<std::string> payloads_of(std::size_t count, std::size_t size, std::uint64_t seed) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(random_bytes(size, seed + i));
  return out;
}

std::unique_ptr<LogWriter> new_writer(Env* env, const TempDir& dir, std::uint64_t number) {
  REQUIRE(env->create_dir(dir / std::string(kWalDirName)).ok());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env->new_writable_file(dir / log_file_name(number), &file).ok());
  return std::make_unique<LogWriter>(std::move(file), number);
}

ReadBack read_file(Env* env, const std::string& path, std::uint64_t number) {
  std::shared_ptr<const MappedFile> mapped;
  const Status s = env->map_file(path, &mapped);
  INFO(s.to_string());
  REQUIRE(s.ok());
  return read_segment(mapped->data(), number, /*last_segment=*/true);
}

TEST_CASE("a power cut keeps exactly the synced records") {
  TempDir dir;
  FaultInjectionEnv env(Env::posix());
  auto writer = new_writer(&env, dir, 5);
  const std::vector<std::string> synced = payloads_of(20, 3000, 1);
  for (const std::string& payload : synced) REQUIRE(writer->add_record(payload).ok());
  REQUIRE(writer->sync().ok());
  for (const std::string& payload : payloads_of(7, 5000, 100)) REQUIRE(writer->add_record(payload).ok());

  REQUIRE(env.drop_unsynced_data().ok());
  const ReadBack back = read_file(&env, dir / log_file_name(5), 5);
  REQUIRE(back.status.ok());
  CHECK(back.records == synced);
  CHECK_FALSE(back.torn);
}

TEST_CASE("a failed append is an IOError, sticks, and leaves a torn tail that recovery trims") {
  TempDir dir;
  FaultInjectionEnv env(Env::posix());
  const std::string path = dir / log_file_name(1);
  auto writer = new_writer(&env, dir, 1);
  const std::vector<std::string> acknowledged = payloads_of(5, 1000, 7);
  for (const std::string& payload : acknowledged) REQUIRE(writer->add_record(payload).ok());
  REQUIRE(writer->sync().ok());
  const std::uint64_t synced_size = writer->size();

  env.fail_appends_from(1, EIO);
  const Status failed = writer->add_record(random_bytes(2000, 99));
  CHECK(failed.to_string() == "IOError: " + path + ": write: Input/output error");
  env.clear_faults();
  CHECK(writer->add_record("later").to_string() == failed.to_string());  // sticky, though the disk is back
  CHECK(writer->sync().to_string() == failed.to_string());

  // Half of the failed record reached the file: a torn tail.
  const ReadBack back = read_file(&env, path, 1);
  REQUIRE(back.status.ok());
  CHECK(back.records == acknowledged);
  CHECK(back.torn);
  CHECK(back.valid_end == synced_size);

  // Recovery: trim the tail, append again, and everything reads back.
  REQUIRE(env.truncate_file(path, back.valid_end).ok());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env.reopen_writable_file(path, &file).ok());
  LogWriter resumed(std::move(file), 1);
  REQUIRE(resumed.add_record("after recovery").ok());
  REQUIRE(resumed.sync().ok());
  std::vector<std::string> expected = acknowledged;
  expected.push_back("after recovery");
  const ReadBack again = read_file(&env, path, 1);
  REQUIRE(again.status.ok());
  CHECK(again.records == expected);
  CHECK_FALSE(again.torn);
}

TEST_CASE("a failed sync is an IOError and the writer refuses more records") {
  TempDir dir;
  FaultInjectionEnv env(Env::posix());
  auto writer = new_writer(&env, dir, 2);
  REQUIRE(writer->add_record("one").ok());
  env.fail_syncs_from(1, EIO);
  const Status failed = writer->sync();
  CHECK(failed.to_string() == "IOError: " + (dir / log_file_name(2)) + ": fdatasync: Input/output error");
  env.clear_faults();
  CHECK(writer->add_record("two").to_string() == failed.to_string());
  CHECK(writer->sync().to_string() == failed.to_string());
}

// Mounts a tmpfs of `bytes` on `path` for the life of the object; mounted() is false (with the reason)
// when the process may not mount (not root, or in a container without CAP_SYS_ADMIN).
class SmallTmpfs {
 public:
  SmallTmpfs(const std::string& path, std::size_t bytes) : path_(path) {
    if (::geteuid() != 0) {
      reason_ = "not running as root";
      return;
    }
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", path.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      reason_ = std::string("mount failed: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string reason_;
};

TEST_CASE("a really full disk: appends fail with IOError and the synced records read back") {
  TempDir dir;
  Env* env = Env::posix();
  const std::string mount_point = dir / "small";
  REQUIRE(env->create_dir(mount_point).ok());
  SmallTmpfs tmpfs(mount_point, 1 << 20);
  if (!tmpfs.mounted()) {
    WARN("SKIPPED: no 1 MiB tmpfs for the real ENOSPC test (" << tmpfs.reason() << ")");
    SUCCEED("skipped");
    return;
  }
  REQUIRE(env->create_dir(mount_point + "/wal").ok());
  std::unique_ptr<WritableFile> file;
  const std::string path = mount_point + "/" + log_file_name(1);
  REQUIRE(env->new_writable_file(path, &file).ok());
  LogWriter writer(std::move(file), 1);
  std::vector<std::string> acknowledged;
  Status failed;
  for (std::uint64_t i = 0; i < 100 && failed.ok(); ++i) {  // 100 x 60 KB > 1 MiB
    std::string payload = random_bytes(60000, i);
    failed = writer.add_record(payload);
    if (failed.ok()) failed = writer.sync();
    if (failed.ok()) acknowledged.push_back(std::move(payload));
  }
  INFO(failed.to_string());
  REQUIRE(failed.is_io_error());
  CHECK(failed.message() == path + ": write: No space left on device");
  CHECK(acknowledged.size() >= 10);
  CHECK(writer.add_record("x").is_io_error());

  const ReadBack back = read_file(env, path, 1);
  REQUIRE(back.status.ok());
  CHECK(back.records == acknowledged);
}

TEST_CASE("random damage to a segment never crashes the reader or yields oversized records") {
  TempDir dir;
  std::vector<std::string> payloads;
  std::mt19937_64 rng(2026);
  for (int i = 0; i < 40; ++i) {
    std::string payload;
    append_log_record(&payload, static_cast<std::uint64_t>(i + 1),
                      {LogOpType::kPut, "key" + std::to_string(i), random_bytes(rng() % 6000, rng())});
    payloads.push_back(std::move(payload));
  }
  const test::Segment segment = test::write_segment(dir, 9, payloads);
  const std::string name = log_file_name(9);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int iterations = 0;
  for (; iterations < 3000 && std::chrono::steady_clock::now() < deadline; ++iterations) {
    std::string damaged = segment.contents;
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      const std::size_t at = rng() % damaged.size();
      switch (rng() % 5) {
        case 0:  // one bit
          damaged[at] = static_cast<char>(damaged[at] ^ (1 << (rng() % 8)));
          break;
        case 1:  // a random byte
          damaged[at] = static_cast<char>(rng());
          break;
        case 2:  // a hostile length field at a plausible header position
          encode_fixed16(damaged.data() + std::min(at, damaged.size() - 2), static_cast<std::uint16_t>(rng()));
          break;
        case 3:  // cut short
          damaged.resize(at);
          break;
        default:  // a zeroed range
          std::fill_n(damaged.begin() + static_cast<std::ptrdiff_t>(at),
                      std::min<std::size_t>(rng() % 64, damaged.size() - at), '\0');
          break;
      }
      if (damaged.empty()) break;
    }
    for (bool last : {false, true}) {
      LogReader reader(damaged, name, 9, last);
      std::string_view payload;
      while (reader.read(&payload)) {
        REQUIRE(payload.size() <= damaged.size());
        LogRecord record;
        const Status s = decode_log_record(payload, &record);
        REQUIRE((s.ok() || s.is_corruption()));
      }
      const Status& s = reader.status();
      REQUIRE((s.ok() || s.is_corruption()));
      if (!s.ok()) REQUIRE(s.message().starts_with(name + " offset "));
      REQUIRE(reader.valid_end() <= damaged.size());
    }
  }
  CHECK(iterations > 100);
}

}  // namespace
}  // namespace mantis::detail
