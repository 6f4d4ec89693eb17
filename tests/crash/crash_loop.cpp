// mantis-crash-loop: kill -9 a writing process at random moments, recover, check what survived.
//
// Each cycle, the parent starts a fresh writer process (this executable with --child) on the data
// directory. Its threads put versioned, self-checking values, erase, write batches, set and drop
// TTLs, and checkpoint now and then; every operation is reported on a pipe before it starts (intent)
// and after it returned OK (ack). At a random moment the parent sends SIGKILL, opens the directory
// itself, reads every key and checks the recovered state against the reports with the rules written
// at the top of crash_checker.hpp. The next cycle writes on top of the recovered state, so recoveries
// accumulate (logs after snapshots after logs...). The first violation stops the loop with a report.
//
//   mantis-crash-loop [--cycles N] [--mode async|sync|periodic] [--dir D] [--seed S]
//                     [--max-delay MS] [--acked-must-survive yes|no]
//   mantis-crash-loop --self-test [--seed S]
//   mantis-crash-loop --memory-only --acked-must-survive no [--cycles N]
//
// One file, past the usual size: the three roles of one executable (writer process, killing parent,
// self-test of the checker) share the workload and the checker and make sense only together.
//
// Power loss cannot be simulated with kill; the fault-injecting file layer's tests cover it.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <mantis/engine.hpp>

#include "crash_checker.hpp"

namespace fs = std::filesystem;
using namespace mantis;
using namespace mantis::crash;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUsage =
    "usage: mantis-crash-loop [--cycles N] [--mode async|sync|periodic] [--dir D] [--seed S]\n"
    "                         [--max-delay MS] [--acked-must-survive yes|no]\n"
    "       mantis-crash-loop --self-test [--seed S]\n"
    "       mantis-crash-loop --memory-only --acked-must-survive no [--cycles N]\n"
    "\n"
    "Kills a writer process with SIGKILL at random moments (5..MS ms after it opened the engine,\n"
    "default 300; one cycle in 8 kills it within 25 ms of its start, possibly during recovery),\n"
    "reopens the data directory and checks that recovery kept every acknowledged write (async and\n"
    "sync; periodic only checks that the result is a prefix, unless --acked-must-survive yes), that\n"
    "each batch is all or nothing, that nothing torn or unknown is visible and that TTLs survive.\n"
    "--dir must not exist yet (default: a new directory under the system temp directory, removed\n"
    "after a successful run). --self-test runs the writers against a memory-only engine and checks\n"
    "that the checker accepts correct recoveries and reports seeded violations. --memory-only checks\n"
    "the harness itself (processes, pipe, journal): writer and checker use memory-only engines, so a\n"
    "kill loses everything, which only --acked-must-survive no accepts.\n"
    "Exit status: 0 all cycles passed, 1 a violation or error, 2 bad usage.\n";

struct Args {
  int cycles = 20;
  std::string mode = "async";
  fs::path dir;
  std::uint64_t seed = 0;
  bool seed_given = false;
  int max_delay_ms = 300;
  std::optional<bool> acked_must_survive;
  bool self_test = false;
  bool memory_only = false;
  // Internal, for the writer process.
  bool child = false;
  int fd = -1;
  std::uint32_t cycle = 0;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "mantis-crash-loop: %s\n%s", message.c_str(), kUsage);
  std::exit(2);
}

std::optional<Durability> parse_mode(const std::string& mode) {
  if (mode == "async") return Durability::kAsync;
  if (mode == "sync") return Durability::kSync;
  if (mode == "periodic") return Durability::kPeriodic;
  return std::nullopt;
}

std::uint64_t parse_number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || text[0] == '-')
    usage_error(flag + " needs a number, got '" + text + "'");
  return value;
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--cycles") {
      args.cycles = static_cast<int>(parse_number(flag, value()));
    } else if (flag == "--mode") {
      args.mode = value();
      if (!parse_mode(args.mode)) usage_error("--mode must be async, sync or periodic, not '" + args.mode + "'");
    } else if (flag == "--dir") {
      args.dir = value();
    } else if (flag == "--seed") {
      args.seed = parse_number(flag, value());
      args.seed_given = true;
    } else if (flag == "--max-delay") {
      args.max_delay_ms = static_cast<int>(parse_number(flag, value()));
      if (args.max_delay_ms < 5) usage_error("--max-delay must be at least 5");
    } else if (flag == "--acked-must-survive") {
      const std::string v = value();
      if (v != "yes" && v != "no") usage_error("--acked-must-survive takes yes or no");
      args.acked_must_survive = v == "yes";
    } else if (flag == "--memory-only") {
      args.memory_only = true;
    } else if (flag == "--self-test") {
      args.self_test = true;
    } else if (flag == "--child") {
      args.child = true;
    } else if (flag == "--fd") {
      args.fd = static_cast<int>(parse_number(flag, value()));
    } else if (flag == "--cycle") {
      args.cycle = static_cast<std::uint32_t>(parse_number(flag, value()));
    } else if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      usage_error("unknown argument '" + flag + "'");
    }
  }
  if (!args.seed_given) args.seed = std::random_device{}();
  return args;
}

// Where writer threads report their operations: a pipe in the writer process, a journal in the
// self-test. Thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void send(Msg& msg) = 0;  // stamps msg.time_ms
  [[noreturn]] virtual void fatal(const std::string& what) = 0;
};

// How a writer thread ends when asked to stop (the self-test's stand-in for a kill).
enum class StopWith { kNothing, kIntentOnly, kUnackedBatch };

// One writer thread: draws operations, reports the intent, runs it, reports the ack. Runs until
// *stop (never, in the writer process: it ends by SIGKILL).
void writer_loop(Engine& engine, Sink& sink, unsigned thread, std::uint64_t seed, std::uint32_t cycle,
                 const std::atomic<bool>& stop, StopWith stop_with = StopWith::kNothing) {
  std::mt19937_64 rng(mix(seed ^ (std::uint64_t{cycle} << 20) ^ thread));
  std::uint32_t number = 0;
  auto next_version = [&] { return (std::uint64_t{cycle} << 32) | ++number; };
  while (!stop.load(std::memory_order_relaxed)) {
    Msg msg = draw_op(rng, thread);
    msg.version = next_version();
    sink.send(msg);
    const Status s = execute(engine, msg);
    if (!s.ok() && !(s.is_not_found() && (msg.op == OpKind::kExpire || msg.op == OpKind::kPersist))) {
      sink.fatal("thread " + std::to_string(thread) + ": " + op_name(msg.op) + " of " + key_name(msg.keys[0]) +
                 " failed: " + s.to_string());
    }
    Msg ack{};
    ack.kind = MsgKind::kAck;
    ack.op = msg.op;
    ack.thread = msg.thread;
    ack.version = msg.version;
    ack.result = s.ok() ? AckResult::kOk : AckResult::kNotFound;
    sink.send(ack);
  }
  if (stop_with == StopWith::kNothing) return;
  Msg msg = draw_op(rng, thread, /*force_batch=*/true);
  msg.version = next_version();
  sink.send(msg);
  if (stop_with == StopWith::kUnackedBatch) {
    const Status s = execute(engine, msg);
    if (!s.ok()) sink.fatal("in-flight batch failed: " + s.to_string());
  }
}

// ---- the writer process ----

class PipeSink final : public Sink {
 public:
  explicit PipeSink(int fd) : fd_(fd) {}
  void send(Msg& msg) override {
    msg.time_ms = wall_ms();
    // One write of less than PIPE_BUF bytes: never interleaved with another thread's.
    if (::write(fd_, &msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) ::_exit(6);
  }
  [[noreturn]] void fatal(const std::string& what) override {
    std::fprintf(stderr, "mantis-crash-loop writer: %s\n", what.c_str());
    ::_exit(4);
  }

 private:
  int fd_;
};

[[noreturn]] void child_main(const Args& args) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) ::_exit(7);
  Options options;
  options.dir = args.memory_only ? fs::path() : args.dir;
  options.durability = *parse_mode(args.mode);
  options.create_if_missing = false;
  options.sync_interval = 100ms;
  std::unique_ptr<Engine> engine;
  const Status s = Engine::open(options, &engine);
  if (!s.ok()) {
    std::fprintf(stderr, "mantis-crash-loop writer: open %s: %s\n", args.dir.c_str(), s.to_string().c_str());
    ::_exit(3);
  }
  PipeSink sink(args.fd);
  Msg ready{};
  ready.kind = MsgKind::kReady;
  sink.send(ready);
  static std::atomic<bool> never{false};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { writer_loop(*engine, sink, t, args.seed, args.cycle, never); });
  }
  // Snapshots while the writers go on (a memory-only engine has none).
  if (!args.memory_only) {
    threads.emplace_back([&] {
      std::mt19937_64 rng(args.seed ^ args.cycle);
      for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 130));
        const Status c = engine->checkpoint();
        if (!c.ok()) sink.fatal("checkpoint failed: " + c.to_string());
      }
    });
  }
  std::this_thread::sleep_for(60s);  // the parent kills us long before
  ::_exit(5);
}

// ---- the parent ----

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

// Reads whole messages from the pipe into the journal. Returns false at end of file.
bool pump(int fd, int timeout_ms, std::string& buffer, Journal& journal) {
  pollfd p{fd, POLLIN, 0};
  const int n = ::poll(&p, 1, timeout_ms);
  if (n <= 0) return true;
  char chunk[64 * 1024];
  const ssize_t got = ::read(fd, chunk, sizeof chunk);
  if (got == 0) return false;
  if (got < 0) return errno == EINTR || errno == EAGAIN;
  buffer.append(chunk, static_cast<std::size_t>(got));
  std::size_t used = 0;
  while (buffer.size() - used >= sizeof(Msg)) {
    Msg msg;
    std::memcpy(&msg, buffer.data() + used, sizeof msg);
    journal.add(msg);
    used += sizeof msg;
  }
  buffer.erase(0, used);
  return true;
}

struct CycleResult {
  bool ok = true;
  std::string report;
  std::string summary;
};

CycleResult run_cycle(const Args& args, std::uint32_t cycle, std::mt19937_64& rng, std::vector<KeyState>& model,
                      bool acked_must_survive) {
  CycleResult result;
  auto fail = [&](std::string report) {
    result.ok = false;
    result.report = std::move(report);
    return result;
  };
  int fds[2];
  if (::pipe(fds) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> child_args = {self,      "--child",
                                         "--dir",   args.dir.string(),
                                         "--mode",  args.mode,
                                         "--seed",  std::to_string(args.seed),
                                         "--cycle", std::to_string(cycle),
                                         "--fd",    std::to_string(fds[1])};
  if (args.memory_only) child_args.push_back("--memory-only");
  std::vector<char*> argv;
  for (auto& a : child_args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    ::execv(self.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  Journal journal;
  std::string buffer;
  bool open = true;
  const bool early_kill = rng() % 8 == 0;
  std::string kill_note;
  auto deadline = started + std::chrono::milliseconds(rng() % 25);
  if (!early_kill) {
    // Wait for the writer to have opened the engine.
    const auto give_up = started + 60s;
    while (open && !journal.ready && std::chrono::steady_clock::now() < give_up)
      open = pump(fds[0], 50, buffer, journal);
    const auto delay = std::chrono::milliseconds(5 + rng() % static_cast<std::uint64_t>(args.max_delay_ms - 4));
    deadline = std::chrono::steady_clock::now() + delay;
    kill_note = "killed " + std::to_string(delay.count()) + " ms after it opened";
  } else {
    kill_note = "killed " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - started).count()) +
                " ms after it started";
  }
  while (open) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    open = pump(fds[0], static_cast<int>(std::min<long long>(left, 20)), buffer, journal);
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  journal.end_ms = wall_ms();
  while (pump(fds[0], 1000, buffer, journal)) {
  }
  ::close(fds[0]);
  if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
    return fail("the writer process " + describe_wait_status(status) + " before it was killed (see its message above)");
  }
  if (!buffer.empty()) journal.error = "a partial message on the pipe";

  Options options;
  options.dir = args.memory_only ? fs::path() : args.dir;
  options.durability = *parse_mode(args.mode);
  options.create_if_missing = false;
  std::unique_ptr<Engine> engine;
  const auto recovery_start = std::chrono::steady_clock::now();
  const Status s = Engine::open(options, &engine);
  const auto recovery_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - recovery_start).count();
  if (!s.ok()) return fail("recovery failed: open " + args.dir.string() + ": " + s.to_string());
  const Observation obs = observe(*engine);
  engine.reset();
  const CheckOutcome outcome = check_cycle(model, journal, obs, acked_must_survive);
  if (!outcome.ok) return fail(outcome.report);
  result.summary = kill_note + ": " + std::to_string(outcome.acked) + " acked, " + std::to_string(outcome.in_flight) +
                   " in flight (" + std::to_string(outcome.in_flight_applied) + " applied, " +
                   std::to_string(outcome.in_flight_lost) + " lost, " +
                   std::to_string(outcome.in_flight - outcome.in_flight_applied - outcome.in_flight_lost) + " either)" +
                   (outcome.acked_lost > 0 ? ", " + std::to_string(outcome.acked_lost) + " acked lost" : "") +
                   "; recovered in " + std::to_string(recovery_ms) + " ms; " + std::to_string(outcome.keys_present) +
                   " keys present";
  return result;
}

int parent_main(Args args) {
  const bool acked_must_survive = args.acked_must_survive.value_or(args.mode != "periodic");
  const bool own_dir = args.dir.empty();
  if (own_dir) {
    args.dir = fs::temp_directory_path() /
               ("mantis-crash-loop-" + std::to_string(::getpid()) + "-" + std::to_string(args.seed % 1000000));
  }
  std::error_code ec;
  if (fs::exists(args.dir, ec)) {
    usage_error("--dir " + args.dir.string() + " already exists; the loop starts from a new database");
  }
  const std::string label = std::string(args.memory_only ? "crash loop harness check, memory-only" : "crash loop") +
                            " (mode " + args.mode + ", seed " + std::to_string(args.seed) + ", dir " +
                            args.dir.string() + ")";
  std::printf("%s: %d cycles, %u writer threads, %u keys, acknowledged writes %s\n", label.c_str(), args.cycles,
              kThreads, kKeys, acked_must_survive ? "must survive" : "may be lost (prefix check only)");
  std::fflush(stdout);
  if (!args.memory_only) {
    Options options;
    options.dir = args.dir;
    options.durability = *parse_mode(args.mode);
    options.error_if_exists = true;
    std::unique_ptr<Engine> engine;
    const Status s = Engine::open(options, &engine);
    if (!s.ok()) {
      std::printf("%s: cannot create the database: %s\n%s: 0 passed, 1 failed\n", label.c_str(), s.to_string().c_str(),
                  label.c_str());
      return 1;
    }
  }
  std::vector<KeyState> model(kKeys);
  std::mt19937_64 rng(args.seed);
  int passed = 0;
  for (int cycle = 1; cycle <= args.cycles; ++cycle) {
    const CycleResult r = run_cycle(args, static_cast<std::uint32_t>(cycle), rng, model, acked_must_survive);
    if (!r.ok) {
      std::string report = r.report;
      if (!report.empty() && report.back() != '\n') report += '\n';
      std::printf("cycle %d/%d FAILED\n%s%s: %d passed, 1 failed%s\n", cycle, args.cycles, report.c_str(),
                  label.c_str(), passed, args.memory_only ? "" : " (directory kept for inspection)");
      return 1;
    }
    ++passed;
    std::printf("cycle %d/%d: %s: ok\n", cycle, args.cycles, r.summary.c_str());
    std::fflush(stdout);
  }
  std::printf("%s: %d passed, 0 failed\n", label.c_str(), passed);
  if (own_dir) fs::remove_all(args.dir, ec);
  return 0;
}

// ---- the self-test: the checker against a memory-only engine and seeded violations ----

class JournalSink final : public Sink {
 public:
  explicit JournalSink(Journal& journal) : journal_(journal) {}
  void send(Msg& msg) override {
    std::lock_guard<std::mutex> lock(mutex_);
    msg.time_ms = wall_ms();
    journal_.add(msg);
  }
  [[noreturn]] void fatal(const std::string& what) override {
    std::fprintf(stderr, "mantis-crash-loop self-test writer: %s\n", what.c_str());
    std::exit(1);
  }

 private:
  std::mutex mutex_;
  Journal& journal_;
};

// A legal observation of a key in state s (what a correct engine could return).
Observed observed_from(const KeyState& s, const Observation& obs) {
  Observed o;
  if (!s.present) return o;
  if (s.has_ttl) {
    const std::int64_t expires = (s.expires_lo + s.expires_hi) / 2;
    const std::int64_t now = (obs.start_ms + obs.end_ms) / 2;
    if (expires <= now) return o;
    o.ttl_ms = expires - now;
  }
  o.present = true;
  o.version = s.version;
  return o;
}

// States of all keys after the first cuts[t] operations of each thread t.
std::vector<KeyState> states_at(const std::vector<KeyState>& model, const Journal& journal,
                                const std::array<std::size_t, kThreads>& cuts) {
  std::vector<KeyState> states = model;
  for (unsigned t = 0; t < kThreads; ++t) {
    for (std::size_t k = 0; k < cuts[t]; ++k) apply(states, journal.ops[t][k], journal.end_ms, nullptr);
  }
  return states;
}

std::array<std::size_t, kThreads> acked_cuts(const Journal& journal) {
  std::array<std::size_t, kThreads> cuts{};
  for (unsigned t = 0; t < kThreads; ++t) {
    while (cuts[t] < journal.ops[t].size() && journal.ops[t][cuts[t]].acked) ++cuts[t];
  }
  return cuts;
}

int self_test(const Args& args) {
  std::printf("crash loop self-test (seed %llu)\n", static_cast<unsigned long long>(args.seed));
  int passed = 0;
  int failed = 0;
  auto expect = [&](const std::string& name, bool ok, const std::string& detail) {
    (ok ? passed : failed) += 1;
    const std::string first_line = detail.substr(0, detail.find('\n'));
    std::printf("  %s: %s%s%s\n", ok ? "ok  " : "FAIL", name.c_str(), first_line.empty() ? "" : ": ",
                first_line.c_str());
    if (detail.size() > first_line.size()) {
      std::string rest = detail.substr(first_line.size() + 1);
      for (std::size_t at = 0; (at = rest.find('\n', at)) != std::string::npos && at + 1 < rest.size(); at += 7) {
        rest.insert(at + 1, "      ");
      }
      std::printf("      %s", rest.c_str());
    }
  };

  std::unique_ptr<Engine> engine;
  {
    const Status s = Engine::open(Options{}, &engine);
    if (!s.ok()) {
      std::printf("cannot open a memory-only engine: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  std::vector<KeyState> model(kKeys);
  std::vector<KeyState> last_model;
  Journal journal;
  Observation obs;
  constexpr int kCycles = 3;
  for (int cycle = 1; cycle <= kCycles; ++cycle) {
    journal = Journal{};
    JournalSink sink(journal);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kThreads; ++t) {
      // Threads 1 and 3 leave a batch applied but unacknowledged, threads 0 and 2 one started but
      // never applied: the two sides of an in-flight operation at a kill.
      const StopWith stop_with = t % 2 == 1 ? StopWith::kUnackedBatch : StopWith::kIntentOnly;
      threads.emplace_back([&, t, stop_with] {
        writer_loop(*engine, sink, t, args.seed, static_cast<std::uint32_t>(cycle), stop, stop_with);
      });
    }
    std::this_thread::sleep_for(150ms);
    stop = true;
    for (auto& thread : threads) thread.join();
    journal.end_ms = wall_ms();
    // The last cycle waits until every short TTL has run out, so that expiry is checked too.
    if (cycle == kCycles) std::this_thread::sleep_for(450ms);
    obs = observe(*engine);
    last_model = model;
    const CheckOutcome outcome = check_cycle(model, journal, obs, /*acked_must_survive=*/true);
    expect("cycle " + std::to_string(cycle) + ": a correct state is accepted (" + std::to_string(outcome.acked) +
               " acked, " + std::to_string(outcome.in_flight) + " in flight, " +
               std::to_string(outcome.in_flight_applied) + " applied)",
           outcome.ok, outcome.report);
    if (cycle == kCycles) {
      std::vector<KeyState> copy = last_model;
      const CheckOutcome lossy = check_cycle(copy, journal, obs, /*acked_must_survive=*/false);
      expect("the same state is accepted without the kill -9 guarantee", lossy.ok, lossy.report);
    }
  }

  // Seeded violations against the last cycle: each must be reported.
  const auto cuts_a = acked_cuts(journal);
  const std::vector<KeyState> acked_states = states_at(last_model, journal, cuts_a);
  auto in_flight_touches = [&](unsigned key) {
    const auto& ops = journal.ops[owner_of(key)];
    return cuts_a[owner_of(key)] < ops.size() && touches(ops[cuts_a[owner_of(key)]].intent, key);
  };
  auto acked_this_cycle = [&](unsigned key, OpKind kind) {
    for (const auto& op : journal.ops[owner_of(key)]) {
      if (op.acked && op.intent.op == kind && touches(op.intent, key)) return true;
    }
    return false;
  };
  auto expect_violation = [&](const std::string& name, const std::function<bool(unsigned, Observation&)>& mutate,
                              bool acked_must_survive = true) {
    for (unsigned key = 0; key < kKeys; ++key) {
      if (in_flight_touches(key)) continue;
      Observation mutated = obs;
      if (!mutate(key, mutated)) continue;
      std::vector<KeyState> copy = last_model;
      const CheckOutcome outcome = check_cycle(copy, journal, mutated, acked_must_survive);
      expect(name + " (" + key_name(key) + ") is reported", !outcome.ok,
             outcome.ok ? "the checker accepted it" : outcome.report);
      return;
    }
    expect(name, false, "no key to build the scenario on (run longer?)");
  };
  expect_violation("a lost acknowledged put", [&](unsigned key, Observation& o) {
    const KeyState& s = acked_states[key];
    if (!s.present || s.has_ttl || !acked_this_cycle(key, OpKind::kPut)) return false;
    o.keys[key] = Observed{};
    return true;
  });
  expect_violation("an older version of an acknowledged put", [&](unsigned key, Observation& o) {
    const KeyState& s = acked_states[key];
    if (!s.present || s.has_ttl || !acked_this_cycle(key, OpKind::kPut)) return false;
    o.keys[key].version = s.version - 1;
    return true;
  });
  expect_violation("a resurrected erased key", [&](unsigned key, Observation& o) {
    if (acked_states[key].present || !acked_this_cycle(key, OpKind::kErase) || !last_model[key].present) return false;
    o.keys[key] = observed_from(KeyState{true, last_model[key].version}, o);
    return true;
  });
  expect_violation("a lost ttl", [&](unsigned key, Observation& o) {
    const KeyState& s = acked_states[key];
    if (!s.present || !s.has_ttl || is_short_ttl_key(key)) return false;
    o.keys[key].ttl_ms.reset();
    return true;
  });
  expect_violation("a ttl added to a key without one", [&](unsigned key, Observation& o) {
    const KeyState& s = acked_states[key];
    if (!s.present || s.has_ttl) return false;
    o.keys[key].ttl_ms = 60'000;
    return true;
  });
  expect_violation("a key visible after its ttl ran out", [&](unsigned key, Observation& o) {
    const KeyState& s = acked_states[key];
    if (!s.present || !s.has_ttl || !is_short_ttl_key(key) || s.expires_hi + 10 > o.start_ms) return false;
    o.keys[key].present = true;
    o.keys[key].version = s.version;
    o.keys[key].ttl_ms = 1;
    return true;
  });

  // In-flight batches: thread 1's was applied (unacknowledged), thread 0's never ran. Half of either
  // is illegal.
  for (unsigned t : {1u, 0u}) {
    const auto& ops = journal.ops[t];
    const std::size_t a = cuts_a[t];
    if (a >= ops.size() || ops[a].intent.op != OpKind::kBatch) {
      expect("half an in-flight batch of thread " + std::to_string(t), false, "no in-flight batch");
      continue;
    }
    auto cuts_m = cuts_a;
    cuts_m[t] = a + 1;
    const std::vector<KeyState> all_states = states_at(last_model, journal, cuts_m);
    Observation mutated = obs;
    const unsigned key = ops[a].intent.keys[0];
    mutated.keys[key] = observed_from(t == 1 ? acked_states[key] : all_states[key], obs);
    std::vector<KeyState> copy = last_model;
    const CheckOutcome outcome = check_cycle(copy, journal, mutated, true);
    expect(std::string("a partly applied in-flight batch (") + (t == 1 ? "one key missing" : "one key extra") +
               ") is reported",
           !outcome.ok, outcome.ok ? "the checker accepted it" : outcome.report);
  }

  // Without the kill -9 guarantee, a consistent prefix of log order is legal, and a "prefix" that
  // drops an operation acknowledged before a surviving one started is not.
  {
    // Cut at the middle of the journal's arrival order: operations acked before it are kept.
    const std::uint64_t middle = journal.next_seq / 2;
    std::array<std::size_t, kThreads> cuts{};
    for (unsigned t = 0; t < kThreads; ++t) {
      while (cuts[t] < journal.ops[t].size() && journal.ops[t][cuts[t]].acked &&
             journal.ops[t][cuts[t]].ack_seq < middle) {
        ++cuts[t];
      }
    }
    const std::vector<KeyState> prefix_states = states_at(last_model, journal, cuts);
    Observation prefix = obs;
    for (unsigned key = 0; key < kKeys; ++key) prefix.keys[key] = observed_from(prefix_states[key], obs);
    std::vector<KeyState> copy = last_model;
    const CheckOutcome lossy = check_cycle(copy, journal, prefix, /*acked_must_survive=*/false);
    expect("a consistent prefix is accepted without the kill -9 guarantee", lossy.ok, lossy.report);
    copy = last_model;
    const CheckOutcome strict = check_cycle(copy, journal, prefix, /*acked_must_survive=*/true);
    expect("the same prefix is reported when acknowledged writes must survive", !strict.ok,
           strict.ok ? "the checker accepted it" : strict.report);

    // One thread loses everything from an acknowledged put X on, while another thread keeps a put Y
    // that started after X was acknowledged. X and Y are each the last operation on their key in the
    // cycle, so no other cut can explain the state: X is certainly lost and Y certainly kept.
    auto last_touch = [&](unsigned t, std::size_t i) {
      const auto& ops = journal.ops[t];
      if (!ops[i].acked || ops[i].intent.op != OpKind::kPut) return false;
      for (std::size_t j = i + 1; j < ops.size(); ++j) {
        if (touches(ops[j].intent, ops[i].intent.keys[0])) return false;
      }
      return true;
    };
    std::optional<std::pair<unsigned, std::size_t>> lost;
    for (unsigned u = 0; u < kThreads && !lost; ++u) {
      for (std::size_t i = 0; i < journal.ops[u].size() && !lost; ++i) {
        if (!last_touch(u, i)) continue;
        for (unsigned t = 0; t < kThreads && !lost; ++t) {
          for (std::size_t j = journal.ops[t].size(); t != u && j-- > 0;) {
            if (last_touch(t, j) && journal.ops[t][j].intent_seq > journal.ops[u][i].ack_seq) {
              lost = std::make_pair(u, i);
              break;
            }
          }
        }
        break;  // only the earliest last-touch put of each thread
      }
    }
    if (!lost) {
      expect("a lost write older than a surviving one", false, "no pair of operations to build the scenario on");
    } else {
      auto holes = cuts_a;
      holes[lost->first] = lost->second;
      const std::vector<KeyState> hole_states = states_at(last_model, journal, holes);
      Observation hole = obs;
      for (unsigned key = 0; key < kKeys; ++key) hole.keys[key] = observed_from(hole_states[key], obs);
      copy = last_model;
      const CheckOutcome out_of_order = check_cycle(copy, journal, hole, /*acked_must_survive=*/false);
      expect("a lost write older than a surviving one is reported without the kill -9 guarantee", !out_of_order.ok,
             out_of_order.ok ? "the checker accepted it" : out_of_order.report);
    }
  }

  // Torn values and unknown keys, through observe() on the engine itself.
  {
    unsigned key = 0;
    while (key + 1 < kKeys && (is_short_ttl_key(key) || !obs.keys[key].present || obs.keys[key].ttl_ms)) ++key;
    std::string torn = encode_value(key, obs.keys[key].version);
    torn[torn.size() / 2] = static_cast<char>(torn[torn.size() / 2] ^ 0x01);
    std::string restored;
    (void)engine->get(key_name(key), &restored);
    struct Damage {
      std::string name;
      std::string key;
      std::string value;
    };
    const std::vector<Damage> damages = {
        {"a value with one flipped bit", key_name(key), torn},
        {"a truncated value", key_name(key), encode_value(key, obs.keys[key].version).substr(0, 20)},
        {"another key's value", key_name(key), encode_value(key + 1, obs.keys[key].version)},
        {"an unknown key", "zz-not-a-workload-key", "x"},
    };
    for (const auto& damage : damages) {
      if (!engine->put(damage.key, damage.value).ok()) return 1;
      const Observation damaged = observe(*engine);
      std::vector<KeyState> copy = last_model;
      const CheckOutcome outcome = check_cycle(copy, journal, damaged, true);
      expect(damage.name + " is reported", !outcome.ok, outcome.ok ? "the checker accepted it" : outcome.report);
      if (damage.key == key_name(key)) {
        if (!engine->put(damage.key, restored).ok()) return 1;
      } else if (!engine->erase(damage.key).ok()) {
        return 1;
      }
    }
  }
  std::printf("crash loop self-test: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  if (args.child) child_main(args);
  if (args.self_test) return self_test(args);
  return parent_main(args);
}
