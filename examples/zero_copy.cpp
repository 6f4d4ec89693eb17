// Zero-copy reads of structured values: each value is a flatbuffer (schema examples/user.fbs), and
// mantis::as_flatbuffer<T>() (<mantis/flatbuffers.hpp>) verifies it and reads its fields in place, without copying or
// parsing the value out of the engine.
#include <cstdio>
#include <memory>
#include <string_view>

#include <flatbuffers/flatbuffers.h>

#include <mantis/engine.hpp>
#include <mantis/flatbuffers.hpp>
// Generated into the build tree from examples/user.fbs by mantis_add_flatbuffers_header().
#include "examples/user_generated.h"

int main() {
  std::unique_ptr<mantis::Engine> db;
  if (mantis::Status s = mantis::Engine::open(mantis::Options{}, &db); !s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.to_string().c_str());
    return 1;
  }

  // Encode once, store the bytes.
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(
      example::CreateUser(builder, 42, builder.CreateString("Ada Lovelace"), builder.CreateString("ada@example.org")));
  const std::string_view bytes(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
  if (!db->put("user:42", bytes).ok() || !db->put("user:bad", "not a flatbuffer").ok()) return 1;

  // Read in place: the view pins the stored bytes; the User table points into them.
  mantis::ValueView view;
  if (!db->get("user:42", &view).ok()) return 1;
  const example::User* user = mantis::as_flatbuffer<example::User>(view);
  if (user == nullptr) return 1;
  std::printf("user %llu: %s <%s> (read in place from %zu stored bytes)\n", static_cast<unsigned long long>(user->id()),
              user->name()->c_str(), user->email()->c_str(), view.data().size());

  // Bytes that are not a valid User are refused by the verifier, not misread.
  if (!db->get("user:bad", &view).ok()) return 1;
  std::printf("user:bad as a User: %s\n",
              mantis::as_flatbuffer<example::User>(view) == nullptr ? "rejected" : "accepted");
  return mantis::as_flatbuffer<example::User>(view) == nullptr ? 0 : 1;
}
