// A non-owning reference to a callable, so that template front-ends can call compiled code.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace mantis::detail {

template <class Signature>
class FunctionRef;

// Refers to a callable that must outlive the FunctionRef. Intentionally copyable (it is a reference).
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): used like a function parameter
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace mantis::detail
