// mantis::ValueView: a zero-copy, pinned view of a stored value.
#pragma once

#include <string_view>

#include <mantis/export.h>

namespace mantis {

namespace detail {
struct ViewAccess;
}

// A ValueView pins the bytes of one value: data() stays valid until reset() or destruction, even if
// the key is overwritten, erased, evicted or expired meanwhile. A view may be moved to and released
// by any thread, and a thread may hold any number of views at once. Move-only.
// An empty (default or reset) view has empty data().
class MANTIS_EXPORT ValueView {
 public:
  ValueView() noexcept = default;
  ValueView(ValueView&& other) noexcept { take(other); }
  ValueView& operator=(ValueView&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  ValueView(const ValueView&) = delete;
  ValueView& operator=(const ValueView&) = delete;
  ~ValueView() { reset(); }

  // The value's bytes. Never allocates.
  std::string_view data() const noexcept { return data_; }
  // True while the view pins a value.
  bool pinned() const noexcept { return unpin_ != nullptr; }

  // Releases the pin; data() becomes empty.
  void reset() noexcept {
    if (unpin_ != nullptr) unpin_(pin_);
    data_ = {};
    pin_ = nullptr;
    unpin_ = nullptr;
  }

  // Flatbuffers values are read in place with mantis::as_flatbuffer<T>(view), <mantis/flatbuffers.hpp>.

 private:
  friend struct detail::ViewAccess;
  using Unpin = void (*)(void* pin) noexcept;

  void take(ValueView& other) noexcept {
    data_ = other.data_;
    pin_ = other.pin_;
    unpin_ = other.unpin_;
    other.data_ = {};
    other.pin_ = nullptr;
    other.unpin_ = nullptr;
  }

  std::string_view data_;
  void* pin_ = nullptr;
  Unpin unpin_ = nullptr;
};

namespace detail {
// How the engine and the cache hand out views: `unpin(pin)` is called exactly once, on reset().
struct ViewAccess {
  static void assign(ValueView& view, std::string_view data, void* pin, ValueView::Unpin unpin) noexcept {
    view.reset();
    view.data_ = data;
    view.pin_ = pin;
    view.unpin_ = unpin;
  }
};
}  // namespace detail

}  // namespace mantis
