// Little-endian fixed-width integers and LEB128 varints: the byte-level encoding of the log.
//
// Decoders never read past the end of their input: each takes a std::string_view cursor, consumes what
// it decodes and returns false (leaving the cursor unspecified) when the input is too short or malformed.
// All functions are thread-safe and allocate only when appending to a std::string.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mantis::detail {

inline void encode_fixed16(char* out, std::uint16_t v) noexcept {
  out[0] = static_cast<char>(v);
  out[1] = static_cast<char>(v >> 8);
}
inline void encode_fixed32(char* out, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
inline void encode_fixed64(char* out, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}

inline std::uint16_t decode_fixed16(const char* in) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t decode_fixed32(const char* in) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t decode_fixed64(const char* in) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline void put_fixed32(std::string* out, std::uint32_t v) {
  char buf[4];
  encode_fixed32(buf, v);
  out->append(buf, sizeof buf);
}
inline void put_fixed64(std::string* out, std::uint64_t v) {
  char buf[8];
  encode_fixed64(buf, v);
  out->append(buf, sizeof buf);
}
inline void put_varint32(std::string* out, std::uint32_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
// A varint32 length followed by the bytes.
inline void put_length_prefixed(std::string* out, std::string_view bytes) {
  put_varint32(out, static_cast<std::uint32_t>(bytes.size()));
  out->append(bytes);
}

inline bool get_fixed32(std::string_view* in, std::uint32_t* v) noexcept {
  if (in->size() < 4) return false;
  *v = decode_fixed32(in->data());
  in->remove_prefix(4);
  return true;
}
inline bool get_fixed64(std::string_view* in, std::uint64_t* v) noexcept {
  if (in->size() < 8) return false;
  *v = decode_fixed64(in->data());
  in->remove_prefix(8);
  return true;
}
inline bool get_byte(std::string_view* in, std::uint8_t* v) noexcept {
  if (in->empty()) return false;
  *v = static_cast<std::uint8_t>(in->front());
  in->remove_prefix(1);
  return true;
}
// At most 5 bytes; a fifth byte may carry only the top 4 bits.
inline bool get_varint32(std::string_view* in, std::uint32_t* v) noexcept {
  std::uint32_t result = 0;
  for (int shift = 0; shift <= 28 && !in->empty(); shift += 7) {
    const auto byte = static_cast<std::uint8_t>(in->front());
    in->remove_prefix(1);
    if (shift == 28 && byte > 0x0f) return false;
    result |= static_cast<std::uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}
// A varint32 length, then that many bytes as a view into the input (never a copy).
inline bool get_length_prefixed(std::string_view* in, std::string_view* bytes) noexcept {
  std::uint32_t length = 0;
  if (!get_varint32(in, &length) || length > in->size()) return false;
  *bytes = in->substr(0, length);
  in->remove_prefix(length);
  return true;
}

}  // namespace mantis::detail
