#include <catch2/catch.hpp>

#include <mantis/status.hpp>

using mantis::Status;

TEST_CASE("an OK status has no message and prints OK", "[status]") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == Status::Code::kOk);
  CHECK(s.message().empty());
  CHECK(s.to_string() == "OK");
  CHECK(Status::ok_status().ok());
}

TEST_CASE("each factory sets its code, predicate and name", "[status]") {
  CHECK(Status::not_found("key 'abc'").to_string() == "NotFound: key 'abc'");
  CHECK(Status::not_found().is_not_found());
  CHECK(Status::invalid_argument("x").is_invalid_argument());
  CHECK(Status::io_error("x").is_io_error());
  CHECK(Status::corruption("x").is_corruption());
  CHECK(Status::busy("x").is_busy());
  CHECK(Status::resource_exhausted("x").is_resource_exhausted());
  CHECK(Status::not_supported("x").is_not_supported());
  CHECK(Status::closed("x").is_closed());
  CHECK_FALSE(Status::closed("x").ok());
  CHECK(Status::corruption("wal/000007.log offset 4096: bad checksum").to_string() ==
        "Corruption: wal/000007.log offset 4096: bad checksum");
  CHECK(Status::not_found().to_string() == "NotFound");
}

TEST_CASE("statuses copy deeply and move", "[status]") {
  Status a = Status::io_error("disk");
  Status b = a;
  CHECK(b.is_io_error());
  CHECK(b.message() == "disk");
  CHECK(a.message().data() != b.message().data());
  Status c = std::move(a);
  CHECK(c.message() == "disk");
  b = Status();
  CHECK(b.ok());
  b = c;
  CHECK(b.to_string() == "IOError: disk");
}
