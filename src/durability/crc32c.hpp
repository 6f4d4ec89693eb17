// CRC32C (Castagnoli), the checksum of every log record, computed by ISA-L's crc32_iscsi (hardware
// CRC32 / PCLMULQDQ instructions picked at run time). Standard parameters: crc32c("123456789") ==
// 0xe3069283.
#pragma once

#include <cstdint>
#include <string_view>

namespace mantis::detail {

// The CRC32C of `data` continued from `crc`, the CRC32C of the bytes before it (0 for none), so that
// crc32c_extend(crc32c_extend(0, a), b) == crc32c(a + b). Thread-safe; never allocates.
std::uint32_t crc32c_extend(std::uint32_t crc, std::string_view data) noexcept;
inline std::uint32_t crc32c(std::string_view data) noexcept { return crc32c_extend(0, data); }

// A stored checksum is masked so that the CRC of bytes that themselves embed CRCs (a log carrying
// checksummed records) does not degenerate: rotate right by 15 and add a constant.
constexpr std::uint32_t kCrcMaskDelta = 0xa282ead8u;
constexpr std::uint32_t mask_crc(std::uint32_t crc) noexcept { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }
constexpr std::uint32_t unmask_crc(std::uint32_t masked) noexcept {
  const std::uint32_t rotated = masked - kCrcMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace mantis::detail
