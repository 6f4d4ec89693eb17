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
// With --workload bank the writer process's threads are tellers instead: transfers between accounts in
// transactions, reported the same way, while an auditor checks the bank through snapshots and
// read-only transactions (exit status kAuditFailedExit on a violation, which the parent reports); the
// parent checks the recovered bank with the rules at the top of crash_bank.hpp.
//
//   mantis-crash-loop [--workload ops|bank] [--cycles N] [--mode async|sync|periodic] [--dir D] [--seed S]
//                     [--max-delay MS] [--acked-must-survive yes|no]
//   mantis-crash-loop --self-test [--workload ops|bank] [--seed S]
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

#include <algorithm>
#include <array>
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

#include "crash_bank.hpp"
#include "crash_checker.hpp"

namespace fs = std::filesystem;
using namespace mantis;
using namespace mantis::crash;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUsage =
    "usage: mantis-crash-loop [--workload ops|bank] [--cycles N] [--mode async|sync|periodic] [--dir D]\n"
    "                         [--seed S] [--max-delay MS] [--acked-must-survive yes|no]\n"
    "       mantis-crash-loop --self-test [--workload ops|bank] [--seed S]\n"
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
    "--workload bank (default: ops) runs tellers that transfer money between accounts in transactions\n"
    "while an auditor checks every snapshot's total; the check after recovery is exact: the balances are\n"
    "the previous cycle's after exactly the transfers whose records survived, every acknowledged one\n"
    "among them; with --self-test, these rules are checked against seeded violations. Not with\n"
    "--memory-only.\n"
    "Exit status: 0 all cycles passed, 1 a violation or error, 2 bad usage.\n";

// The writer process's exit status when its bank audit found a violation.
constexpr int kAuditFailedExit = 8;

struct Args {
  std::string workload = "ops";
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
    if (flag == "--workload") {
      args.workload = value();
      if (args.workload != "ops" && args.workload != "bank") {
        usage_error("--workload must be ops or bank, not '" + args.workload + "'");
      }
    } else if (flag == "--cycles") {
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
  if (args.workload == "bank" && args.memory_only) usage_error("--workload bank needs a data directory");
  if (!args.seed_given) args.seed = std::random_device{}();
  return args;
}

// Where writer threads report their operations (Msg, or TransferMsg for tellers): a pipe in the writer
// process, a journal in the self-test. Thread-safe.
template <class Message>
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void send(Message& msg) = 0;  // stamps msg.time_ms
  [[noreturn]] virtual void fatal(const std::string& what) = 0;
};

// How a writer thread ends when asked to stop (the self-test's stand-in for a kill): returning, or
// leaving an operation in flight, started but never run, or run (applied) but never acknowledged.
enum class StopWith { kNothing, kIntentOnly, kApplied };

// One writer thread: draws operations, reports the intent, runs it, reports the ack. Runs until
// *stop (never, in the writer process: it ends by SIGKILL).
void writer_loop(Engine& engine, Sink<Msg>& sink, unsigned thread, std::uint64_t seed, std::uint32_t cycle,
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
  if (stop_with == StopWith::kApplied) {
    const Status s = execute(engine, msg);
    if (!s.ok()) sink.fatal("in-flight batch failed: " + s.to_string());
  }
}

// One teller: draws transfers, reports the intent, runs it, reports the ack, and publishes the id of
// each committed one in *last_committed (for the audit) before acknowledging it. Runs until *stop
// (never, in the writer process: it ends by SIGKILL).
void teller_loop(Engine& engine, Sink<TransferMsg>& sink, unsigned thread, std::uint64_t seed, std::uint32_t cycle,
                 std::atomic<std::uint64_t>& last_committed, const std::atomic<bool>& stop,
                 StopWith stop_with = StopWith::kNothing) {
  std::mt19937_64 rng(mix(seed ^ (std::uint64_t{cycle} << 20) ^ (thread + 0x100)));
  for (std::uint32_t number = 1;; ++number) {
    TransferMsg msg = draw_transfer(rng, thread, cycle, number);
    const bool stopping = stop.load(std::memory_order_relaxed);
    if (stopping && stop_with == StopWith::kNothing) return;
    sink.send(msg);
    if (stopping && stop_with == StopWith::kIntentOnly) return;
    TransferMsg ack = msg;
    ack.kind = MsgKind::kAck;
    const Status s = run_transfer(engine, msg, &ack.result, &ack.conflicts);
    if (!s.ok())
      sink.fatal("teller " + std::to_string(thread) + ": transfer " + record_key(msg.id) + " failed: " + s.to_string());
    if (stopping) return;  // kApplied
    if (ack.result == TransferResult::kCommitted) last_committed.store(msg.id, std::memory_order_seq_cst);
    sink.send(ack);
  }
}

using LastCommitted = std::array<std::atomic<std::uint64_t>, kTellers>;

// Audits the bank until *stop, every 1-3 ms, alternating a snapshot and a read-only transaction
// (crash_bank.hpp, "The audit"), against `base`. Returns the first violation; counts audits in *audits.
std::optional<std::string> audit_loop(Engine& engine, const std::vector<std::int64_t>& base,
                                      const LastCommitted& last_committed, const std::atomic<bool>& stop,
                                      long* audits) {
  for (unsigned n = 0; !stop.load(std::memory_order_relaxed); ++n) {
    std::optional<std::string> why;
    if (n % 2 == 0) {
      std::array<std::uint64_t, kTellers> committed{};
      for (unsigned t = 0; t < kTellers; ++t) committed[t] = last_committed[t].load(std::memory_order_seq_cst);
      const Snapshot snapshot = engine.snapshot();
      why = audit(engine, snapshot, base, committed);
    } else {
      why = audit_in_transaction(engine, base);
    }
    if (why) return why;
    ++*audits;
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + n % 3));
  }
  return std::nullopt;
}

// ---- the writer process ----

template <class Message>
class PipeSink final : public Sink<Message> {
 public:
  explicit PipeSink(int fd) : fd_(fd) {}
  void send(Message& msg) override {
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
  static std::atomic<bool> never{false};
  std::vector<std::thread> threads;
  PipeSink<Msg> sink(args.fd);
  PipeSink<TransferMsg> teller_sink(args.fd);
  static LastCommitted last_committed{};
  if (args.workload == "bank") {
    // The audit's base: the balances before the records present now (none, unless a harness bug).
    const std::vector<std::int64_t> base = base_of(read_bank([&](auto&& fn) { return engine->scan("", "", fn); }));
    TransferMsg ready{};
    ready.kind = MsgKind::kReady;
    teller_sink.send(ready);
    for (unsigned t = 0; t < kTellers; ++t) {
      threads.emplace_back(
          [&, t] { teller_loop(*engine, teller_sink, t, args.seed, args.cycle, last_committed[t], never); });
    }
    threads.emplace_back([&, base] {
      long audits = 0;
      const auto why = audit_loop(*engine, base, last_committed, never, &audits);
      std::fprintf(stderr, "mantis-crash-loop writer: audit %ld failed: %s\n", audits + 1, why.value_or("").c_str());
      ::_exit(kAuditFailedExit);
    });
  } else {
    Msg ready{};
    ready.kind = MsgKind::kReady;
    sink.send(ready);
    for (unsigned t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { writer_loop(*engine, sink, t, args.seed, args.cycle, never); });
    }
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
template <class Journal>
bool pump(int fd, int timeout_ms, std::string& buffer, Journal& journal) {
  using Message = typename Journal::Message;
  pollfd p{fd, POLLIN, 0};
  const int n = ::poll(&p, 1, timeout_ms);
  if (n <= 0) return true;
  char chunk[64 * 1024];
  const ssize_t got = ::read(fd, chunk, sizeof chunk);
  if (got == 0) return false;
  if (got < 0) return errno == EINTR || errno == EAGAIN;
  buffer.append(chunk, static_cast<std::size_t>(got));
  std::size_t used = 0;
  while (buffer.size() - used >= sizeof(Message)) {
    Message msg;
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

// The parent's side of the ops workload: the state recovered so far, checked by crash_checker.hpp.
struct OpsWorkload {
  using Journal = mantis::crash::Journal;
  std::vector<KeyState> model = std::vector<KeyState>(kKeys);
  bool acked_must_survive = true;

  // Checks the recovered engine against the cycle's journal (no operation ran after end_ms); on
  // success the model becomes the recovered state.
  CycleResult check(Engine& engine, Journal& journal, std::int64_t end_ms) {
    journal.end_ms = end_ms;
    const Observation obs = observe(engine);
    const CheckOutcome outcome = check_cycle(model, journal, obs, acked_must_survive);
    if (!outcome.ok) return CycleResult{false, outcome.report, ""};
    return CycleResult{
        true, "",
        std::to_string(outcome.acked) + " acked, " + std::to_string(outcome.in_flight) + " in flight (" +
            std::to_string(outcome.in_flight_applied) + " applied, " + std::to_string(outcome.in_flight_lost) +
            " lost, " + std::to_string(outcome.in_flight - outcome.in_flight_applied - outcome.in_flight_lost) +
            " either)" + (outcome.acked_lost > 0 ? ", " + std::to_string(outcome.acked_lost) + " acked lost" : "") +
            "; " + std::to_string(outcome.keys_present) + " keys present"};
  }
};

// The parent's side of the bank workload: the balances after the last cycle (its base), checked by
// crash_bank.hpp's rules; after a cycle passes, its records are erased.
struct BankWorkload {
  using Journal = BankJournal;
  std::vector<std::int64_t> base = std::vector<std::int64_t>(kAccounts, kOpening);
  bool acked_must_survive = true;

  CycleResult check(Engine& engine, Journal& journal, std::int64_t /*end_ms: transfers have no deadlines*/) {
    const BankView view = read_bank([&](auto&& fn) { return engine.scan("", "", fn); });
    std::string value;
    for (unsigned a = 0; a < kAccounts && view.problems.empty(); ++a) {  // B1: point reads agree with the scan
      const Status s = engine.get(account_key(a), &value);
      if (!s.ok() || parse_int(value) != view.balances[a]) {
        return CycleResult{false,
                           "B1: scan and get disagree on " + account_key(a) + ": " + s.to_string() + " '" +
                               mantis::test::printable(value) + "', scanned " + std::to_string(view.balances[a]),
                           ""};
      }
    }
    const BankOutcome outcome = check_bank(base, journal, view, acked_must_survive);
    if (!outcome.ok) return CycleResult{false, outcome.report, ""};
    const Status s = erase_records(engine, view);
    if (!s.ok()) return CycleResult{false, "erasing the cycle's records failed: " + s.to_string(), ""};
    base = view.balances;
    return CycleResult{true, "",
                       std::to_string(outcome.committed) + " transfers acked committed, " +
                           std::to_string(outcome.declined) + " declined, " + std::to_string(outcome.conflicts) +
                           " conflicts retried, " + std::to_string(outcome.in_flight) + " in flight (" +
                           std::to_string(outcome.in_flight_applied) + " applied)" +
                           (outcome.acked_lost > 0 ? ", " + std::to_string(outcome.acked_lost) + " acked lost" : "") +
                           "; " + std::to_string(outcome.records) + " records"};
  }
};

template <class Workload>
CycleResult run_cycle(const Args& args, std::uint32_t cycle, std::mt19937_64& rng, Workload& workload) {
  CycleResult result;
  auto fail = [&](std::string report) {
    result.ok = false;
    result.report = std::move(report);
    return result;
  };
  int fds[2];
  if (::pipe(fds) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> child_args = {self,         "--child",
                                         "--workload", args.workload,
                                         "--dir",      args.dir.string(),
                                         "--mode",     args.mode,
                                         "--seed",     std::to_string(args.seed),
                                         "--cycle",    std::to_string(cycle),
                                         "--fd",       std::to_string(fds[1])};
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
  typename Workload::Journal journal;
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
  const std::int64_t end_ms = wall_ms();  // no operation ran later
  while (pump(fds[0], 1000, buffer, journal)) {
  }
  ::close(fds[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == kAuditFailedExit) {
    return fail("the writer process's audit found the bank inconsistent at a snapshot (its message is above)");
  }
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
  const CycleResult checked = workload.check(*engine, journal, end_ms);
  engine.reset();
  if (!checked.ok) return fail(checked.report);
  result.summary = kill_note + ": " + checked.summary + "; recovered in " + std::to_string(recovery_ms) + " ms";
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
  const bool bank = args.workload == "bank";
  const std::string label = std::string(args.memory_only ? "crash loop harness check, memory-only" : "crash loop") +
                            " (" + (bank ? "workload bank, " : "") + "mode " + args.mode + ", seed " +
                            std::to_string(args.seed) + ", dir " + args.dir.string() + ")";
  std::printf("%s: %d cycles, %u %s, %u %s, acknowledged writes %s\n", label.c_str(), args.cycles,
              bank ? kTellers : kThreads, bank ? "tellers" : "writer threads", bank ? kAccounts : kKeys,
              bank ? "accounts" : "keys", acked_must_survive ? "must survive" : "may be lost (prefix check only)");
  std::fflush(stdout);
  if (!args.memory_only) {
    Options options;
    options.dir = args.dir;
    options.durability = *parse_mode(args.mode);
    options.error_if_exists = true;
    std::unique_ptr<Engine> engine;
    Status s = Engine::open(options, &engine);
    if (s.ok() && bank) s = open_accounts(*engine);
    if (!s.ok()) {
      std::printf("%s: cannot create the database: %s\n%s: 0 passed, 1 failed\n", label.c_str(), s.to_string().c_str(),
                  label.c_str());
      return 1;
    }
  }
  OpsWorkload ops;
  ops.acked_must_survive = acked_must_survive;
  BankWorkload bank_workload;
  bank_workload.acked_must_survive = acked_must_survive;
  std::mt19937_64 rng(args.seed);
  int passed = 0;
  for (int cycle = 1; cycle <= args.cycles; ++cycle) {
    const auto number = static_cast<std::uint32_t>(cycle);
    const CycleResult r = bank ? run_cycle(args, number, rng, bank_workload) : run_cycle(args, number, rng, ops);
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

template <class Journal>
class JournalSink final : public Sink<typename Journal::Message> {
 public:
  explicit JournalSink(Journal& journal) : journal_(journal) {}
  void send(typename Journal::Message& msg) override {
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

// A self-test's results: each expectation printed as ok or FAIL, with the first line of its detail and
// the rest indented below.
struct Tally {
  int passed = 0;
  int failed = 0;
  void expect(const std::string& name, bool ok, const std::string& detail) {
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
  }
};

int self_test(const Args& args) {
  std::printf("crash loop self-test (seed %llu)\n", static_cast<unsigned long long>(args.seed));
  Tally tally;
  auto expect = [&tally](const std::string& name, bool ok, const std::string& detail) {
    tally.expect(name, ok, detail);
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
    JournalSink<Journal> sink(journal);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kThreads; ++t) {
      // Threads 1 and 3 leave a batch applied but unacknowledged, threads 0 and 2 one started but
      // never applied: the two sides of an in-flight operation at a kill.
      const StopWith stop_with = t % 2 == 1 ? StopWith::kApplied : StopWith::kIntentOnly;
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
  std::printf("crash loop self-test: %d passed, %d failed\n", tally.passed, tally.failed);
  return tally.failed == 0 ? 0 : 1;
}

// ---- the bank's self-test: tellers and the auditor on a memory-only engine, then seeded violations ----

// Moves the money of `m` (backwards when `sign` is -1) in `view`.
void move_money(BankView& view, const Movement& m, int sign) {
  view.balances[m.from] -= sign * m.amount;
  view.balances[m.to] += sign * m.amount;
}

int bank_self_test(const Args& args) {
  std::printf("crash loop bank self-test (seed %llu)\n", static_cast<unsigned long long>(args.seed));
  Tally tally;
  std::unique_ptr<Engine> engine;
  {
    Status s = Engine::open(Options{}, &engine);
    if (s.ok()) s = open_accounts(*engine);
    if (!s.ok()) {
      std::printf("cannot open a memory-only bank: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  const std::vector<std::int64_t> base(kAccounts, kOpening);
  BankJournal journal;
  LastCommitted last_committed{};
  {
    JournalSink<BankJournal> sink(journal);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kTellers; ++t) {
      // Tellers 1 and 3 leave a transfer run but unacknowledged, 0 and 2 one started but never run.
      const StopWith stop_with = t % 2 == 1 ? StopWith::kApplied : StopWith::kIntentOnly;
      threads.emplace_back(
          [&, t, stop_with] { teller_loop(*engine, sink, t, args.seed, 1, last_committed[t], stop, stop_with); });
    }
    std::optional<std::string> audit_error;
    long audits = 0;
    threads.emplace_back([&] { audit_error = audit_loop(*engine, base, last_committed, stop, &audits); });
    std::this_thread::sleep_for(300ms);
    stop = true;
    for (auto& thread : threads) thread.join();
    tally.expect("the audit accepts the bank while tellers commit (" + std::to_string(audits) + " audits)",
                 !audit_error && audits > 0, audit_error.value_or(""));
  }
  auto read_latest = [&] { return read_bank([&](auto&& fn) { return engine->scan("", "", fn); }); };
  const BankView view = read_latest();
  {
    const BankOutcome outcome = check_bank(base, journal, view, true);
    tally.expect("a correct bank is accepted (" + std::to_string(outcome.committed) + " committed, " +
                     std::to_string(outcome.declined) + " declined, " + std::to_string(outcome.conflicts) +
                     " conflicts, " + std::to_string(outcome.in_flight) + " in flight, " +
                     std::to_string(outcome.in_flight_applied) + " applied)",
                 outcome.ok && outcome.in_flight == kTellers, outcome.report);
    const BankOutcome lossy = check_bank(base, journal, view, false);
    tally.expect("the same bank is accepted without the kill -9 guarantee", lossy.ok, lossy.report);
    BankView none = view;  // every transfer lost: the empty prefix
    for (const auto& [id, m] : view.records) move_money(none, m, -1);
    none.records.clear();
    const BankOutcome empty_prefix = check_bank(base, journal, none, false);
    tally.expect("a bank that lost every transfer is accepted without the kill -9 guarantee", empty_prefix.ok,
                 empty_prefix.report);
    const BankOutcome all_lost = check_bank(base, journal, none, true);
    tally.expect("the same bank is reported with it", !all_lost.ok,
                 all_lost.ok ? "the checker accepted it" : all_lost.report);
  }

  // Seeded violations on copies of the view; each must be reported under the rule named.
  std::vector<const BankJournal::Transfer*> all;
  for (const auto& mine : journal.transfers) {
    for (const auto& t : mine) all.push_back(&t);
  }
  auto committed = [&](const BankJournal::Transfer& t) {
    return t.acked && t.result == TransferResult::kCommitted && view.records.contains(t.intent.id);
  };
  // Whether reverting `m` leaves no balance negative.
  auto revertible = [&](const Movement& m) { return view.balances[m.to] >= m.amount; };
  auto expect_violation = [&](const std::string& name, const std::string& rule,
                              const std::function<bool(BankView&)>& mutate, bool acked_must_survive = true) {
    BankView mutated = view;
    if (!mutate(mutated)) {
      tally.expect(name, false, "no transfer to build the scenario on (run longer?)");
      return;
    }
    const BankOutcome outcome = check_bank(base, journal, mutated, acked_must_survive);
    tally.expect(name + " is reported under " + rule, !outcome.ok && outcome.report.find(rule) != std::string::npos,
                 outcome.ok ? "the checker accepted it" : outcome.report);
  };
  expect_violation("a lost acknowledged transfer, record and money", "B4", [&](BankView& v) {
    for (const auto* t : all) {
      if (!committed(*t) || !revertible(movement_of(t->intent))) continue;
      move_money(v, movement_of(t->intent), -1);
      v.records.erase(t->intent.id);
      return true;
    }
    return false;
  });
  expect_violation(
      "a lost acknowledged transfer older than a surviving one", "B4",
      [&](BankView& v) {
        for (const auto* lost : all) {
          if (!committed(*lost) || !revertible(movement_of(lost->intent))) continue;
          for (const auto* kept : all) {
            if (kept->intent_seq <= lost->ack_seq || !view.records.contains(kept->intent.id)) continue;
            move_money(v, movement_of(lost->intent), -1);
            v.records.erase(lost->intent.id);
            return true;
          }
        }
        return false;
      },
      /*acked_must_survive=*/false);
  expect_violation("a record whose money did not move", "B5", [&](BankView& v) {
    for (const auto& [id, m] : view.records) {
      if (!revertible(m)) continue;
      move_money(v, m, -1);
      return true;
    }
    return false;
  });
  expect_violation("money moved without a record", "B5", [&](BankView& v) {
    const auto richest =
        static_cast<unsigned>(std::max_element(v.balances.begin(), v.balances.end()) - v.balances.begin());
    move_money(v, Movement{richest, (richest + 1) % kAccounts, 1}, 1);
    return true;
  });
  expect_violation("money created", "B2", [&](BankView& v) {
    v.balances[0] += 1;
    return true;
  });
  expect_violation("a negative balance", "B2", [&](BankView& v) {
    v.balances[1] += v.balances[0] + 1;
    v.balances[0] = -1;
    return true;
  });
  expect_violation("a record that differs from its transfer", "B3", [&](BankView& v) {
    for (auto& [id, m] : v.records) {
      if (m.amount >= kMaxAmount || v.balances[m.from] < 1) continue;
      m.amount += 1;
      move_money(v, Movement{m.from, m.to, 1}, 1);
      return true;
    }
    return false;
  });
  expect_violation("a record of an earlier cycle, resurrected", "B3", [&](BankView& v) {
    const Movement m{0, 1, 1};
    if (v.balances[0] < 1) return false;
    v.records.emplace(std::uint64_t{7}, m);  // cycle 0, teller 0, number 7
    move_money(v, m, 1);
    return true;
  });
  expect_violation("the record of a declined transfer", "B3", [&](BankView& v) {
    for (const auto* t : all) {
      const Movement m = movement_of(t->intent);
      if (!t->acked || t->result != TransferResult::kDeclined || v.balances[m.from] < m.amount) continue;
      v.records.emplace(t->intent.id, m);
      move_money(v, m, 1);
      return true;
    }
    return false;
  });

  // Through the engine: keys and values no transfer writes (B1), and the audit's rules.
  struct Damage {
    std::string name;
    std::string key;
    std::string value;
  };
  const std::vector<Damage> damages = {
      {"an unknown key", "zz", "1"},
      {"a malformed record", record_key(std::uint64_t{1} << 32), "0 1"},
      {"a malformed balance", account_key(0), "ten"},
  };
  for (const auto& damage : damages) {
    std::string before;
    const Status had = engine->get(damage.key, &before);
    if (!engine->put(damage.key, damage.value).ok()) return 1;
    const BankOutcome outcome = check_bank(base, journal, read_latest(), true);
    tally.expect(damage.name + " is reported under B1", !outcome.ok && outcome.report.find("B1") != std::string::npos,
                 outcome.ok ? "the checker accepted it" : outcome.report);
    if (!(had.ok() ? engine->put(damage.key, before) : engine->erase(damage.key)).ok()) return 1;
  }
  std::array<std::uint64_t, kTellers> last{};
  for (unsigned t = 0; t < kTellers; ++t) last[t] = last_committed[t].load();
  {
    const Snapshot snapshot = engine->snapshot();
    const auto why = audit(*engine, snapshot, base, last);
    tally.expect("the audit accepts the bank at rest", !why, why.value_or(""));
  }
  {
    if (!engine->put(account_key(0), std::to_string(view.balances[0] + 1)).ok()) return 1;
    const Snapshot snapshot = engine->snapshot();
    const auto why = audit(*engine, snapshot, base, last);
    tally.expect("the audit reports money created", why.has_value(), why.value_or("the audit accepted it"));
    if (!engine->put(account_key(0), std::to_string(view.balances[0])).ok()) return 1;
  }
  {
    const auto it = std::find_if(last.begin(), last.end(),
                                 [&](std::uint64_t id) { return id != 0 && revertible(view.records.at(id)); });
    if (it == last.end()) {
      tally.expect("the audit reports a committed transfer missing from a snapshot", false, "no transfer to revert");
    } else {  // revert the transfer whole: only the missing record is wrong
      const Movement m = view.records.at(*it);
      WriteBatch revert;
      revert.put(account_key(m.from), std::to_string(view.balances[m.from] + m.amount));
      revert.put(account_key(m.to), std::to_string(view.balances[m.to] - m.amount));
      revert.erase(record_key(*it));
      if (!engine->write(revert).ok()) return 1;
      const Snapshot snapshot = engine->snapshot();
      const auto why = audit(*engine, snapshot, base, last);
      tally.expect("the audit reports a committed transfer missing from a snapshot", why.has_value(),
                   why.value_or("the audit accepted it"));
    }
  }
  std::printf("crash loop bank self-test: %d passed, %d failed\n", tally.passed, tally.failed);
  return tally.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  if (args.child) child_main(args);
  if (args.self_test) return args.workload == "bank" ? bank_self_test(args) : self_test(args);
  return parent_main(args);
}
