// A host program that links libmantis keeps its own malloc and operator new (docs/DEPENDENCIES.md, "mimalloc").
//
// Debian's libmimalloc.so is built with MI_OVERRIDE=ON: it exports malloc, free and operator new. If it
// ever lands before libc in the executable's NEEDED list (a static libmantis puts -lmimalloc on the
// host's link line, or a target links mimalloc PUBLIC), the dynamic linker binds the host's malloc and
// new to mimalloc and these tests fail. libmantis must link mimalloc PRIVATE and shared, so that it is
// only a second-level dependency, after libc.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include <mantis/engine.hpp>
#include "util/memory.hpp"

namespace {

// The file name of the shared object that defines `symbol` for this process, as the dynamic linker
// binds it for the host (RTLD_DEFAULT searches the executable's global scope in load order).
std::string defining_object(const char* symbol) {
  void* address = dlsym(RTLD_DEFAULT, symbol);
  if (address == nullptr) return "<unresolved>";
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "<unknown>";
  return info.dli_fname;
}

bool names_mimalloc(std::string_view object) { return object.find("mimalloc") != std::string_view::npos; }

}  // namespace

TEST_CASE("the host's malloc and operator new are not bound to mimalloc", "[memory][host]") {
  // _Znwm / _ZdlPv are operator new(std::size_t) / operator delete(void*) in the Itanium ABI.
  for (const char* symbol : {"malloc", "free", "calloc", "realloc", "_Znwm", "_ZdlPv"}) {
    INFO("symbol " << symbol << " is defined by " << defining_object(symbol));
    CHECK_FALSE(names_mimalloc(defining_object(symbol)));
  }
}

TEST_CASE("memory from the host's malloc and new is not in a mimalloc heap", "[memory][host]") {
  // Written to, then handed to an out-of-line function, so the compiler can neither elide the
  // allocations nor warn about reading uninitialised memory.
  constexpr std::size_t kSize = 64;
  void* from_malloc = std::malloc(kSize);
  REQUIRE(from_malloc != nullptr);
  std::memset(from_malloc, 0x5a, kSize);
  auto from_new = std::make_unique<char[]>(kSize);
  auto from_string = std::make_unique<std::string>(1000, 'x');  // heap buffer through std::allocator

  CHECK_FALSE(mantis::detail::allocated_by_mimalloc(from_malloc));
  CHECK_FALSE(mantis::detail::allocated_by_mimalloc(from_new.get()));
  CHECK_FALSE(mantis::detail::allocated_by_mimalloc(from_string->data()));
  std::free(from_malloc);
}

TEST_CASE("mantis's own allocations come from mimalloc when it is enabled", "[memory]") {
  const std::string_view name = mantis::detail::allocator_name();
  void* ours = mantis::detail::allocate(64);
  REQUIRE(ours != nullptr);
  std::memset(ours, 0x5a, 64);
  if (name == "mimalloc") {
    CHECK(mantis::detail::allocated_by_mimalloc(ours));
  } else {
    // Sanitizer builds (MANTIS_USE_MIMALLOC=OFF) allocate with the system allocator.
    CHECK(name == "system");
    CHECK_FALSE(mantis::detail::allocated_by_mimalloc(ours));
  }
  mantis::detail::deallocate(ours);
}

TEST_CASE("using an engine leaves the host's allocator untouched", "[memory][host]") {
  // Opening an engine initialises mimalloc in the process; the host's malloc must stay the host's.
  std::unique_ptr<mantis::Engine> engine;
  REQUIRE(mantis::Engine::open(mantis::Options{}, &engine).ok());
  REQUIRE(engine->put("key", std::string(200, 'v')).ok());
  std::string value;
  REQUIRE(engine->get("key", &value).ok());
  CHECK_FALSE(mantis::detail::allocated_by_mimalloc(value.data()));

  void* from_malloc = std::malloc(32);
  REQUIRE(from_malloc != nullptr);
  std::memset(from_malloc, 0, 32);
  CHECK_FALSE(mantis::detail::allocated_by_mimalloc(from_malloc));
  std::free(from_malloc);
}
