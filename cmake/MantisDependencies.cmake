# Finds mantis's dependencies from Debian 12 packages (docs/DEPENDENCIES.md has the facts behind each step).
include_guard(GLOBAL)
find_package(Threads REQUIRED)

# libcds, for mantis-bench's SkipListMap peer only (the library does not use it): Debian's
# LibCDSConfig.cmake points at /usr/lib64 and fails, so the target is imported by hand.
if(MANTIS_BUILD_BENCH AND NOT TARGET cds::cds)
  find_path(MANTIS_LIBCDS_INCLUDE_DIR cds/version.h REQUIRED)
  find_library(MANTIS_LIBCDS_LIBRARY NAMES cds REQUIRED)
  add_library(cds::cds SHARED IMPORTED)
  set_target_properties(cds::cds PROPERTIES
    IMPORTED_LOCATION "${MANTIS_LIBCDS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${MANTIS_LIBCDS_INCLUDE_DIR}"
    INTERFACE_COMPILE_OPTIONS "-mcx16"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()

# LMDB and RocksDB, optional peers of mantis-bench (bench/peers/): each is built when its Debian package
# (liblmdb-dev, librocksdb-dev) is installed, and left out with a message otherwise. Linked by library
# name: RocksDB's CMake config would drag in gflags, snappy and the other compression libraries' targets.
if(MANTIS_BUILD_BENCH)
  find_path(MANTIS_LMDB_INCLUDE_DIR lmdb.h)
  find_library(MANTIS_LMDB_LIBRARY NAMES lmdb)
  find_path(MANTIS_ROCKSDB_INCLUDE_DIR rocksdb/db.h)
  find_library(MANTIS_ROCKSDB_LIBRARY NAMES rocksdb)
  foreach(_peer LMDB ROCKSDB)
    if(MANTIS_${_peer}_INCLUDE_DIR AND MANTIS_${_peer}_LIBRARY)
      set(MANTIS_BENCH_HAVE_${_peer} ON)
      message(STATUS "mantis-bench: ${_peer} peer on (${MANTIS_${_peer}_LIBRARY})")
    else()
      set(MANTIS_BENCH_HAVE_${_peer} OFF)
      string(TOLOWER "lib${_peer}-dev" _package)
      message(STATUS "mantis-bench: ${_peer} peer off (install ${_package} to build it)")
    endif()
  endforeach()
endif()

# mimalloc: the shared target `mimalloc` (Debian builds it with MI_OVERRIDE=ON, so it is linked PRIVATE
# into the shared libmantis only; docs/DEPENDENCIES.md, "mimalloc").
find_package(mimalloc 2.0 CONFIG REQUIRED)
# flatbuffers: the runtime is header-only for us; flatc compiles the record schema.
find_package(FlatBuffers 2.0.8 CONFIG REQUIRED)

# Generates <name>_generated.h from a schema into the build tree (Debian ships no
# flatbuffers_generate_headers()); `target` becomes an INTERFACE library carrying the include dir.
# The header is included under the schema's folder name: src/store/record.fbs gives
# "store/record_generated.h".
function(mantis_add_flatbuffers_header target schema)
  get_filename_component(_name "${schema}" NAME_WE)
  get_filename_component(_folder "${schema}" DIRECTORY)
  get_filename_component(_folder "${_folder}" NAME)
  set(_dir "${CMAKE_CURRENT_BINARY_DIR}/fbs_gen")
  add_custom_command(OUTPUT "${_dir}/${_folder}/${_name}_generated.h"
    COMMAND flatbuffers::flatc --cpp --scoped-enums -o "${_dir}/${_folder}" "${schema}"
    DEPENDS "${schema}" flatbuffers::flatc VERBATIM)
  add_custom_target(${target}_gen DEPENDS "${_dir}/${_folder}/${_name}_generated.h")
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_gen)
  target_include_directories(${target} INTERFACE "$<BUILD_INTERFACE:${_dir}>")
endfunction()

# ISA-L (libisal-dev): CRC32C with run-time CPU dispatch for the write-ahead log. Debian ships neither a
# CMake config nor a .pc file. libmantis links it PRIVATE by full path, so that a static libmantis's
# exported link interface names the library itself rather than a target its consumers lack.
find_path(MANTIS_ISAL_INCLUDE_DIR isa-l/crc.h REQUIRED)
find_library(MANTIS_ISAL_LIBRARY NAMES isal REQUIRED)
