#include "tool_commands.hpp"

#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dump_format.hpp"
#include "json.hpp"

namespace mantis::tool {

namespace {

int write_out(std::string_view bytes, const Streams& io) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), io.out) != bytes.size() || std::fflush(io.out) != 0) {
    return fail(Status::io_error("stdout: write failed"), io);
  }
  return 0;
}

}  // namespace

int fail(const Status& s, const Streams& io) {
  std::fprintf(io.err, "%s\n", s.to_string().c_str());
  return kExitError;
}

int stats(Engine& engine, const std::filesystem::path& dir, const Streams& io) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::pair<std::string, std::uintmax_t>> listing;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::uintmax_t size = it->file_size(ec);
    if (ec) break;
    listing.emplace_back(fs::relative(it->path(), dir).string(), size);
  }
  if (ec) return fail(Status::io_error(dir.string() + ": listing the directory: " + ec.message()), io);
  std::sort(listing.begin(), listing.end());
  std::string files = "[";
  std::uintmax_t total = 0;
  for (const auto& [name, size] : listing) {
    if (files.size() > 1) files += ",";
    files += "{\"name\":" + mantis::tools::json_quote(name) + ",\"bytes\":" + std::to_string(size) + "}";
    total += size;
  }
  files += "]";
  return write_out("{\"dir\":" + mantis::tools::json_quote(dir.string()) +
                       ",\"size\":" + std::to_string(engine.size()) + ",\"engine\":" + engine.stats().to_json() +
                       ",\"files\":" + files + ",\"file_bytes\":" + std::to_string(total) + "}\n",
                   io);
}

int verify(Engine& engine, const Streams& io) {
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;
  std::string value;
  auto it = engine.new_iterator();
  for (it->seek_to_first(); it->valid(); it->next()) {
    ++keys;
    bytes += it->key().size() + it->value().size();
    const Status s = engine.get(it->key(), &value);
    if (s.is_not_found()) continue;
    if (!s.ok()) return fail(s, io);
    if (value != it->value()) {
      return fail(
          Status::corruption("key '" + escape(it->key()) + "': the iterator and a point read return different values"),
          io);
    }
  }
  if (!it->status().ok()) return fail(it->status(), io);
  return write_out("ok: " + std::to_string(keys) + " keys, " + std::to_string(bytes) + " bytes of keys and values\n",
                   io);
}

int dump(Engine& engine, std::string_view prefix, const Streams& io) {
  auto it = engine.new_iterator();
  std::string out;
  for (it->seek(prefix); it->valid() && it->key().substr(0, prefix.size()) == prefix; it->next()) {
    std::optional<std::chrono::milliseconds> remaining;
    const Status s = engine.ttl(it->key(), &remaining);
    if (s.is_not_found()) continue;  // expired since the iterator saw it
    if (!s.ok()) return fail(s, io);
    out += format_line(it->key(), it->value(), remaining);
    if (out.size() >= (1u << 16)) {
      if (write_out(out, io) != 0) return kExitError;
      out.clear();
    }
  }
  if (!it->status().ok()) return fail(it->status(), io);
  return write_out(out, io);
}

int load(Engine& engine, const Streams& io) {
  WriteBatch batch;
  std::uint64_t loaded = 0;
  std::uint64_t line_number = 0;
  DumpEntry entry;
  auto flush = [&]() -> Status {
    if (batch.count() == 0) return Status::ok_status();
    Status s = engine.write(batch);
    if (s.ok()) loaded += batch.count();
    batch.clear();
    return s;
  };
  char* buffer = nullptr;
  std::size_t capacity = 0;
  struct FreeBuffer {
    char*& buffer;
    ~FreeBuffer() { std::free(buffer); }
  } free_buffer{buffer};
  for (;;) {
    errno = 0;
    const ssize_t length = ::getline(&buffer, &capacity, io.in);
    if (length < 0) {
      if (errno != 0 && std::ferror(io.in)) return fail(Status::io_error("stdin: read failed"), io);
      break;
    }
    ++line_number;
    std::string_view line(buffer, static_cast<std::size_t>(length));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (auto why = parse_line(line, &entry)) {
      const Status written = flush();
      if (!written.ok()) return fail(written, io);
      std::fprintf(io.err, "mantis-tool load: stdin line %llu: %s; the %llu keys before it were loaded\n",
                   static_cast<unsigned long long>(line_number), why->c_str(), static_cast<unsigned long long>(loaded));
      return kExitError;
    }
    batch.put(entry.key, entry.value, entry.ttl.value_or(std::chrono::milliseconds(0)));
    if (batch.count() >= kLoadBatch) {
      if (Status s = flush(); !s.ok()) return fail(s, io);
    }
  }
  if (Status s = flush(); !s.ok()) return fail(s, io);
  return write_out("loaded " + std::to_string(loaded) + " keys\n", io);
}

int get(Engine& engine, std::string_view key, const Streams& io) {
  std::string value;
  if (Status s = engine.get(key, &value); !s.ok()) return fail(s, io);
  value += '\n';
  return write_out(value, io);
}

}  // namespace mantis::tool
