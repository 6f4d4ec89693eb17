// A program that uses mantis the way an application does: public headers and mantis::mantis only.
// Built by both consumer projects (find_package and add_subdirectory); exits non-zero on failure.
#include <cstdio>
#include <memory>
#include <string>

// cache.hpp first: each public header must compile on its own from the installed tree.
#include <mantis/cache.hpp>
#include <mantis/engine.hpp>

// The core headers do not need flatbuffers (only the opt-in <mantis/flatbuffers.hpp> does): flatbuffers.h
// defines FLATBUFFERS_H_, so it must not have been pulled in by now.
#ifdef FLATBUFFERS_H_
#error "<mantis/engine.hpp> or <mantis/cache.hpp> includes the flatbuffers headers"
#endif

int main() {
  std::unique_ptr<mantis::Engine> db;
  if (mantis::Status s = mantis::Engine::open(mantis::Options{}, &db); !s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.to_string().c_str());
    return 1;
  }
  if (mantis::Status s = db->put("consumer", "works"); !s.ok()) {
    std::fprintf(stderr, "put: %s\n", s.to_string().c_str());
    return 1;
  }
  std::string value;
  mantis::ValueView view;
  if (!db->get("consumer", &value).ok() || value != "works" || !db->get("consumer", &view).ok() ||
      view.data() != "works") {
    std::fprintf(stderr, "get did not return the value just put\n");
    return 1;
  }
  std::unique_ptr<mantis::Cache> cache;
  if (mantis::Status s = mantis::Cache::open(mantis::CacheOptions{}, &cache); !s.ok()) {
    std::fprintf(stderr, "cache open: %s\n", s.to_string().c_str());
    return 1;
  }
  if (!cache->put("consumer", "cached").ok() || !cache->get("consumer", &value).ok() || value != "cached") {
    std::fprintf(stderr, "the standalone cache did not return the value just put\n");
    return 1;
  }
  // Deliberately an old-style cast: mantis's own warning flags (-Wold-style-cast with -Werror in
  // developer builds) must stay PRIVATE to its targets, so this compiles in a consumer.
  const int size = (int)value.size();
  std::printf("mantis consumer: got %d bytes back\n", size);
  return 0;
}
