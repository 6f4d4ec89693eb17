// Opt-in: reading flatbuffers values in place through a ValueView. The only public header that needs
// the flatbuffers headers (Debian: libflatbuffers-dev); <mantis/engine.hpp> and the others do not.
#pragma once

#include <cstdint>

#include <flatbuffers/flatbuffers.h>

#include <mantis/value_view.hpp>

namespace mantis {

// For a value that is a flatbuffer with root type T: verifies view.data() and returns the root table,
// or nullptr when the bytes are not a valid T buffer (or the view is empty). The table is valid as long
// as the view pins the value. Thread-safe; never allocates.
template <class T>
const T* as_flatbuffer(const ValueView& view) {
  const std::string_view data = view.data();
  if (data.empty()) return nullptr;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  flatbuffers::Verifier verifier(bytes, data.size(), flatbuffers::Verifier::Options{});
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(bytes);
}

}  // namespace mantis
