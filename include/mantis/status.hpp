// mantis::Status: the one error channel of the mantis API.
//
// Every fallible call returns a Status. An OK Status holds no allocation (a null pointer), so the
// success path costs one pointer test. A Status is intentionally copyable and movable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <mantis/export.h>

namespace mantis {

class [[nodiscard]] MANTIS_EXPORT Status {
 public:
  enum class Code : std::uint8_t {
    kOk,
    kNotFound,
    kInvalidArgument,
    kIOError,
    kCorruption,
    kBusy,
    kResourceExhausted,
    kNotSupported,
    kClosed,
    kConditionFailed,  // a conditional write's condition did not hold: nothing was written
    kConflict,         // a transaction's commit found a key it read written since its snapshot: nothing was written
  };

  Status() noexcept = default;
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status ok_status() noexcept { return Status(); }
  static Status not_found(std::string_view msg = {}) { return Status(Code::kNotFound, msg); }
  static Status invalid_argument(std::string_view msg = {}) { return Status(Code::kInvalidArgument, msg); }
  static Status io_error(std::string_view msg = {}) { return Status(Code::kIOError, msg); }
  static Status corruption(std::string_view msg = {}) { return Status(Code::kCorruption, msg); }
  static Status busy(std::string_view msg = {}) { return Status(Code::kBusy, msg); }
  static Status resource_exhausted(std::string_view msg = {}) { return Status(Code::kResourceExhausted, msg); }
  static Status not_supported(std::string_view msg = {}) { return Status(Code::kNotSupported, msg); }
  static Status closed(std::string_view msg = {}) { return Status(Code::kClosed, msg); }
  static Status condition_failed(std::string_view msg = {}) { return Status(Code::kConditionFailed, msg); }
  static Status conflict(std::string_view msg = {}) { return Status(Code::kConflict, msg); }

  bool ok() const noexcept { return rep_ == nullptr; }
  bool is_not_found() const noexcept { return code() == Code::kNotFound; }
  bool is_invalid_argument() const noexcept { return code() == Code::kInvalidArgument; }
  bool is_io_error() const noexcept { return code() == Code::kIOError; }
  bool is_corruption() const noexcept { return code() == Code::kCorruption; }
  bool is_busy() const noexcept { return code() == Code::kBusy; }
  bool is_resource_exhausted() const noexcept { return code() == Code::kResourceExhausted; }
  bool is_not_supported() const noexcept { return code() == Code::kNotSupported; }
  bool is_closed() const noexcept { return code() == Code::kClosed; }
  bool is_condition_failed() const noexcept { return code() == Code::kConditionFailed; }
  bool is_conflict() const noexcept { return code() == Code::kConflict; }

  Code code() const noexcept { return rep_ ? rep_->code : Code::kOk; }
  // Empty for OK. Valid as long as this Status is neither modified nor destroyed.
  std::string_view message() const noexcept { return rep_ ? std::string_view(rep_->message) : std::string_view(); }
  // "OK", or "<Code>: <message>", e.g. "NotFound: key 'abc'".
  std::string to_string() const;

  // The name of a code as to_string() prints it, e.g. "InvalidArgument".
  static std::string_view code_name(Code code) noexcept;

 private:
  struct Rep {
    Code code;
    std::string message;
  };
  Status(Code code, std::string_view message);

  std::unique_ptr<const Rep> rep_;
};

}  // namespace mantis
