#include <mantis/status.hpp>

namespace mantis {

Status::Status(Code code, std::string_view message)
    : rep_(code == Code::kOk ? nullptr : new Rep{code, std::string(message)}) {}

Status::Status(const Status& other) : rep_(other.rep_ ? new Rep(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_.reset(other.rep_ ? new Rep(*other.rep_) : nullptr);
  return *this;
}

std::string_view Status::code_name(Code code) noexcept {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      return "NotFound";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kIOError:
      return "IOError";
    case Code::kCorruption:
      return "Corruption";
    case Code::kBusy:
      return "Busy";
    case Code::kResourceExhausted:
      return "ResourceExhausted";
    case Code::kNotSupported:
      return "NotSupported";
    case Code::kClosed:
      return "Closed";
    case Code::kConditionFailed:
      return "ConditionFailed";
    case Code::kConflict:
      return "Conflict";
  }
  return "Unknown";
}

std::string Status::to_string() const {
  std::string out(code_name(code()));
  if (rep_ && !rep_->message.empty()) {
    out += ": ";
    out += rep_->message;
  }
  return out;
}

}  // namespace mantis
