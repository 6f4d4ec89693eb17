#include <catch2/catch.hpp>

#include <string>

#include "cache/doorkeeper.hpp"

using mantis::detail::Doorkeeper;

TEST_CASE("a key passes the doorkeeper on its second offer", "[doorkeeper]") {
  Doorkeeper door(10000);
  CHECK_FALSE(door.offer("alpha"));
  CHECK(door.offer("alpha"));
  CHECK(door.offer("alpha"));
  CHECK_FALSE(door.offer("beta"));
}

TEST_CASE("the doorkeeper forgets keys after about a window of offers", "[doorkeeper]") {
  Doorkeeper door(2048);
  CHECK_FALSE(door.offer("remembered?"));
  for (int i = 0; i < 4096; ++i) static_cast<void>(door.offer("filler" + std::to_string(i)));
  CHECK_FALSE(door.offer("remembered?"));
}

TEST_CASE("false positives stay under 5% within a full window", "[doorkeeper]") {
  constexpr int kWindow = 20000;
  Doorkeeper door(kWindow);
  int false_positives = 0;
  // Fill most of the window with distinct keys; every first offer should be "not seen".
  for (int i = 0; i < kWindow - 1000; ++i) false_positives += door.offer("key" + std::to_string(i)) ? 1 : 0;
  INFO(false_positives << " false positives of " << kWindow - 1000);
  CHECK(false_positives < (kWindow - 1000) / 20);
}
