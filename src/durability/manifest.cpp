#include "durability/manifest.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <vector>

#include "durability/crc32c.hpp"
#include "durability/file_names.hpp"

namespace mantis::detail {
namespace {

constexpr std::string_view kHeaderLine = "mantis-manifest 1\n";

Status corrupt(std::size_t offset, std::string_view what) {
  return Status::corruption(std::string(kManifestFileName) + " offset " + std::to_string(offset) + ": " +
                            std::string(what));
}

// Parses "<word> <decimal>\n" at *pos; advances *pos past the newline.
bool parse_number_line(std::string_view contents, std::size_t* pos, std::string_view word, std::uint64_t* value) {
  std::string_view rest = contents.substr(*pos);
  if (!rest.starts_with(word) || rest.size() <= word.size() || rest[word.size()] != ' ') return false;
  rest.remove_prefix(word.size() + 1);
  const std::size_t newline = rest.find('\n');
  if (newline == std::string_view::npos || newline == 0) return false;
  const char* first = rest.data();
  const char* last = rest.data() + newline;
  if (*first == '0' && newline > 1) return false;  // one spelling per number
  const auto [end, error] = std::from_chars(first, last, *value);
  if (error != std::errc() || end != last) return false;
  *pos += word.size() + 1 + newline + 1;
  return true;
}

}  // namespace

std::string Manifest::encode() const {
  std::string body(kHeaderLine);
  body.append("snapshot ").append(std::to_string(snapshot_lsn)).append("\n");
  body.append("log ").append(std::to_string(first_log_segment)).append("\n");
  char crc[16];
  std::snprintf(crc, sizeof(crc), "%08x", mask_crc(crc32c(body)));
  body.append("crc ").append(crc).append("\n");
  return body;
}

Status Manifest::decode(std::string_view contents, Manifest* out) {
  if (!contents.starts_with(kHeaderLine)) return corrupt(0, "not a mantis manifest (version 1)");
  std::size_t pos = kHeaderLine.size();
  Manifest manifest;
  if (!parse_number_line(contents, &pos, "snapshot", &manifest.snapshot_lsn)) return corrupt(pos, "bad snapshot line");
  if (!parse_number_line(contents, &pos, "log", &manifest.first_log_segment) || manifest.first_log_segment == 0) {
    return corrupt(pos, "bad log line");
  }
  const std::size_t crc_offset = pos;
  const std::string_view crc_line = contents.substr(pos);
  if (crc_line.size() != 4 + 8 + 1 || !crc_line.starts_with("crc ") || crc_line.back() != '\n') {
    return corrupt(crc_offset, "bad crc line");
  }
  std::uint32_t stored = 0;
  const auto [end, error] = std::from_chars(crc_line.data() + 4, crc_line.data() + 12, stored, 16);
  if (error != std::errc() || end != crc_line.data() + 12) return corrupt(crc_offset, "bad crc line");
  if (stored != mask_crc(crc32c(contents.substr(0, crc_offset)))) return corrupt(crc_offset, "checksum mismatch");
  *out = manifest;
  return Status::ok_status();
}

Status write_manifest(Env* env, const std::string& dir, const Manifest& manifest) {
  const std::string temp = temp_file_name(kManifestFileName);
  const std::string temp_path = dir + "/" + temp;
  std::vector<std::string> names;
  Status s = env->list_dir(dir, &names);
  if (!s.ok()) return s;
  if (std::find(names.begin(), names.end(), temp) != names.end()) {
    s = env->remove_file(temp_path);  // left over from a crash while writing
    if (!s.ok()) return s;
  }
  std::unique_ptr<WritableFile> file;
  s = env->new_writable_file(temp_path, &file);
  if (!s.ok()) return s;
  s = file->append(manifest.encode());
  if (s.ok()) s = file->sync();
  const Status closed = file->close();
  if (s.ok()) s = closed;
  if (s.ok()) s = env->rename_and_sync(dir, temp, std::string(kManifestFileName));
  if (!s.ok()) static_cast<void>(env->remove_file(temp_path));
  return s;
}

Status read_manifest(Env* env, const std::string& dir, Manifest* manifest, bool* exists) {
  std::vector<std::string> names;
  Status s = env->list_dir(dir, &names);
  if (!s.ok()) return s;
  *exists = std::find(names.begin(), names.end(), kManifestFileName) != names.end();
  if (!*exists) return Status::ok_status();
  std::shared_ptr<const MappedFile> file;
  s = env->map_file(dir + "/" + std::string(kManifestFileName), &file);
  if (!s.ok()) return s;
  return Manifest::decode(file->data(), manifest);
}

}  // namespace mantis::detail
