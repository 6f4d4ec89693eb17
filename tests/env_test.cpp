// The POSIX file layer: append-only files, mappings, directories, the data-dir lock, fault injection.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env/env.hpp"
#include "env/fault_injection_env.hpp"
#include "temp_dir.hpp"

namespace mantis::detail {
namespace {

using test::TempDir;

std::string read_all(Env* env, const std::string& path) {
  std::shared_ptr<const MappedFile> file;
  const Status s = env->map_file(path, &file);
  INFO(s.to_string());
  REQUIRE(s.ok());
  return std::string(file->data());
}

void append_or_fail(WritableFile& file, std::string_view data) {
  const Status s = file.append(data);
  INFO(s.to_string());
  REQUIRE(s.ok());
}

TEST_CASE("writable files append, sync, report their size and refuse to clobber") {
  TempDir dir;
  Env* env = Env::posix();
  const std::string path = dir / "f";
  std::unique_ptr<WritableFile> file;
  REQUIRE(env->new_writable_file(path, &file).ok());
  CHECK(file->size() == 0);
  CHECK(file->path() == path);
  append_or_fail(*file, "hello ");
  append_or_fail(*file, "");
  append_or_fail(*file, std::string(100000, 'x'));
  CHECK(file->size() == 100006);
  CHECK(file->preallocate(1 << 20).ok());
  CHECK(file->size() == 100006);
  CHECK(file->sync().ok());
  CHECK(file->close().ok());
  CHECK(file->close().ok());
  CHECK(file->append("late").is_io_error());

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 100006);
  CHECK(read_all(env, path) == "hello " + std::string(100000, 'x'));

  std::unique_ptr<WritableFile> again;
  const Status s = env->new_writable_file(path, &again);
  CHECK(s.is_io_error());
  CHECK(s.message() == path + ": open: File exists");

  REQUIRE(env->reopen_writable_file(path, &again).ok());
  CHECK(again->size() == 100006);
  append_or_fail(*again, "!");
  CHECK(read_all(env, path).ends_with("x!"));
}

TEST_CASE("mapped files outlive their other holders and report missing files") {
  TempDir dir;
  Env* env = Env::posix();
  std::unique_ptr<WritableFile> file;
  REQUIRE(env->new_writable_file(dir / "empty", &file).ok());
  std::shared_ptr<const MappedFile> mapped;
  REQUIRE(env->map_file(dir / "empty", &mapped).ok());
  CHECK(mapped->size() == 0);
  CHECK(mapped->data().empty());

  REQUIRE(env->new_writable_file(dir / "full", &file).ok());
  append_or_fail(*file, "mapped bytes");
  REQUIRE(env->map_file(dir / "full", &mapped).ok());
  const std::string_view view = mapped->data();
  std::shared_ptr<const MappedFile> holder = mapped;
  mapped.reset();
  REQUIRE(env->remove_file(dir / "full").ok());  // the mapping keeps the bytes
  CHECK(view == "mapped bytes");
  CHECK(holder->path() == dir / "full");

  const Status s = env->map_file(dir / "missing", &mapped);
  CHECK(s.is_io_error());
  CHECK(s.message() == dir / "missing" + ": open: No such file or directory");
}

TEST_CASE("directory helpers create, list, rename atomically, truncate and remove") {
  TempDir dir;
  Env* env = Env::posix();
  const std::string sub = dir / "wal";
  REQUIRE(env->create_dir(sub).ok());
  REQUIRE(env->create_dir(sub).ok());  // already there
  struct stat st {};
  REQUIRE(::stat(sub.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(env->sync_dir(sub).ok());

  std::unique_ptr<WritableFile> file;
  REQUIRE(env->new_writable_file(sub + "/MANIFEST", &file).ok());
  append_or_fail(*file, "old");
  REQUIRE(env->new_writable_file(sub + "/MANIFEST.tmp", &file).ok());
  append_or_fail(*file, "new contents");
  REQUIRE(file->sync().ok());
  REQUIRE(env->rename_and_sync(sub, "MANIFEST.tmp", "MANIFEST").ok());
  CHECK(read_all(env, sub + "/MANIFEST") == "new contents");

  std::vector<std::string> names;
  REQUIRE(env->list_dir(sub, &names).ok());
  CHECK(names == std::vector<std::string>{"MANIFEST"});

  REQUIRE(env->truncate_file(sub + "/MANIFEST", 3).ok());
  CHECK(read_all(env, sub + "/MANIFEST") == "new");
  REQUIRE(env->remove_file(sub + "/MANIFEST").ok());
  REQUIRE(env->list_dir(sub, &names).ok());
  CHECK(names.empty());

  CHECK(env->remove_file(sub + "/MANIFEST").message() == sub + "/MANIFEST: unlink: No such file or directory");
  CHECK(env->list_dir(dir / "nope", &names).is_io_error());
  CHECK(env->sync_dir(dir / "nope").is_io_error());
  CHECK(env->rename_and_sync(sub, "a", "b").is_io_error());
  REQUIRE(env->new_writable_file(dir / "plain", &file).ok());
  CHECK(env->create_dir(dir / "plain").message() == dir / "plain" + ": mkdir: File exists");
}

TEST_CASE("the data-dir lock is exclusive within the process") {
  TempDir dir;
  Env* env = Env::posix();
  std::unique_ptr<FileLock> first;
  REQUIRE(env->lock_dir(dir.path(), &first).ok());
  CHECK(first->path() == dir / "LOCK");
  std::unique_ptr<FileLock> second;
  const Status s = env->lock_dir(dir.path(), &second);
  CHECK(s.is_busy());
  CHECK(s.message() == "data dir " + dir.path() + " is locked by another engine or process");
  CHECK(second == nullptr);
  first.reset();
  CHECK(env->lock_dir(dir.path(), &second).ok());
  CHECK(env->lock_dir(dir / "missing", &first).is_io_error());
}

TEST_CASE("the data-dir lock is exclusive across processes") {
  TempDir dir;
  Env* env = Env::posix();
  std::unique_ptr<FileLock> lock;
  REQUIRE(env->lock_dir(dir.path(), &lock).ok());

  // A child (which inherits no flock of ours worth anything: it opens its own description) is refused.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::unique_ptr<FileLock> theirs;
    ::_exit(Env::posix()->lock_dir(dir.path(), &theirs).is_busy() ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  // The other way round: a child holds the lock until told to go; meanwhile the parent is refused.
  lock.reset();
  int to_child[2];
  int to_parent[2];
  REQUIRE(::pipe(to_child) == 0);
  REQUIRE(::pipe(to_parent) == 0);
  const pid_t holder = ::fork();
  REQUIRE(holder >= 0);
  if (holder == 0) {
    std::unique_ptr<FileLock> theirs;
    const char acquired = Env::posix()->lock_dir(dir.path(), &theirs).ok() ? 'y' : 'n';
    char go = 0;
    if (::write(to_parent[1], &acquired, 1) != 1 || ::read(to_child[0], &go, 1) != 1) ::_exit(2);
    ::_exit(0);
  }
  char acquired = 0;
  REQUIRE(::read(to_parent[0], &acquired, 1) == 1);
  REQUIRE(acquired == 'y');
  CHECK(env->lock_dir(dir.path(), &lock).is_busy());
  REQUIRE(::write(to_child[1], "g", 1) == 1);
  REQUIRE(::waitpid(holder, &status, 0) == holder);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(env->lock_dir(dir.path(), &lock).ok());  // the kernel released the exited holder's lock
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
}

TEST_CASE("fault injection fails appends and syncs with the chosen errno") {
  TempDir dir;
  FaultInjectionEnv env(Env::posix());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env.new_writable_file(dir / "f", &file).ok());
  env.fail_appends_from(2, ENOSPC);
  append_or_fail(*file, "first ");
  const Status s = file->append("second");
  CHECK(s.is_io_error());
  CHECK(s.message() == dir / "f" + ": write: No space left on device");
  CHECK(file->append("third").is_io_error());
  CHECK(read_all(&env, dir / "f") == "first sec");  // the failing write was torn in half

  env.fail_syncs_from(1, EIO);
  CHECK(file->sync().message() == dir / "f" + ": fdatasync: Input/output error");
  env.clear_faults();
  CHECK(file->sync().ok());
  append_or_fail(*file, "!");
}

TEST_CASE("fault injection drops what was not synced, as a power cut would") {
  TempDir dir;
  FaultInjectionEnv env(Env::posix());
  std::unique_ptr<WritableFile> a;
  std::unique_ptr<WritableFile> b;
  REQUIRE(env.new_writable_file(dir / "a", &a).ok());
  REQUIRE(env.new_writable_file(dir / "b", &b).ok());
  append_or_fail(*a, "synced");
  REQUIRE(a->sync().ok());
  append_or_fail(*a, " lost");
  append_or_fail(*b, "never synced");

  // Reopening keeps what was known to be durable.
  std::unique_ptr<WritableFile> c;
  REQUIRE(env.reopen_writable_file(dir / "a", &c).ok());
  append_or_fail(*c, " also lost");
  // A file that existed before this Env touched it counts as durable up to its size then.
  REQUIRE(Env::posix()->new_writable_file(dir / "e", &c).ok());
  append_or_fail(*c, "pre-existing");
  REQUIRE(env.reopen_writable_file(dir / "e", &c).ok());
  append_or_fail(*c, " lost");

  REQUIRE(env.new_writable_file(dir / "d.tmp", &a).ok());
  append_or_fail(*a, "renamed");
  REQUIRE(a->sync().ok());
  REQUIRE(env.rename_and_sync(dir.path(), "d.tmp", "d").ok());

  REQUIRE(env.drop_unsynced_data().ok());
  CHECK(read_all(&env, dir / "a") == "synced");
  CHECK(read_all(&env, dir / "e") == "pre-existing");
  CHECK(read_all(&env, dir / "b").empty());
  CHECK(read_all(&env, dir / "d") == "renamed");
}

}  // namespace
}  // namespace mantis::detail
