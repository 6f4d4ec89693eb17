#include "durability/crc32c.hpp"

#include <climits>

#include <isa-l/crc.h>

namespace mantis::detail {

std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view data) noexcept {
  // ISA-L works on the raw register: the standard CRC inverts it on the way in and on the way out.
  std::uint32_t reg = ~crc;
  // crc32_iscsi takes an int length (and a non-const pointer, though it only reads).
  auto* bytes = reinterpret_cast<unsigned char*>(const_cast<char*>(data.data()));
  std::size_t left = data.size();
  while (left > 0) {
    const std::size_t chunk = left < INT_MAX ? left : INT_MAX;
    reg = crc32_iscsi(bytes, static_cast<int>(chunk), reg);
    bytes += chunk;
    left -= chunk;
  }
  return ~reg;
}

}  // namespace mantis::detail
