#!/usr/bin/env bash
# Checks that mantis can be consumed from CMake and pkg-config: installs an existing build into a
# scratch prefix, checks what its libraries export and that the core headers need no flatbuffers,
# builds tests/consumer/find_package against it, then builds
# tests/consumer/add_subdirectory over the source tree (each consumer runs through ctest), then
# builds the C program tests/consumer/pkgconfig_c with `pkg-config --cflags --libs mantis_c`.
#
#   tests/consumer/run.sh [BUILD_DIR]   # BUILD_DIR: a configured and built mantis (default: build)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-${MANTIS_BUILD_DIR:-build}}"
[[ "$build" = /* ]] || build="$root/$build"
jobs="${MANTIS_JOBS:-$(nproc)}"
work="$build/consumer-tests"
rm -rf "$work"
mkdir -p "$work"

echo "-- find_package: installing $build into $work/prefix"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
# include/ holds the public API and nothing else (internals live under src/), so the installed headers
# must be exactly that tree: nothing internal installed, nothing public missing.
if ! diff -r "$root/include" "$work/prefix/include" >"$work/headers.diff"; then
  echo "the installed headers differ from the public include/ tree:" >&2
  cat "$work/headers.diff" >&2
  exit 1
fi
# The C headers are the C API's and the export macro it shares with the C++ headers.
unexpected="$(cd "$work/prefix/include" && find . -name '*.h' ! -path ./mantis/mantis.h ! -path ./mantis/export.h)"
if [[ -n "$unexpected" ]]; then
  echo "unexpected C headers were installed: $unexpected" >&2
  exit 1
fi
# The installed libraries export their public API and nothing else (tests/check_exports.cmake).
lib_dir="$(dirname "$(find "$work/prefix" -name 'libmantis.so' -print -quit)")"
[[ -f "$lib_dir/libmantis.so" && -f "$lib_dir/libmantis_c.so" ]] || { echo "run.sh: libmantis.so / libmantis_c.so not installed" >&2; exit 1; }
cmake -DNM=nm "-DLIBRARY=$lib_dir/libmantis.so" -DKIND=cxx -P "$root/tests/check_exports.cmake"
cmake -DNM=nm "-DLIBRARY=$lib_dir/libmantis_c.so" -DKIND=c -P "$root/tests/check_exports.cmake"
# The core headers compile with no flatbuffers header reachable: every header of the system's
# flatbuffers is shadowed by one that fails. The opt-in <mantis/flatbuffers.hpp> must then fail,
# which shows the shadowing works.
poison="$work/no_flatbuffers/flatbuffers"
mkdir -p "$poison"
for header in /usr/include/flatbuffers/*.h; do
  echo "#error \"flatbuffers/$(basename "$header") was included\"" >"$poison/$(basename "$header")"
done
for header in engine cache; do
  echo "#include <mantis/$header.hpp>" | c++ -std=c++20 -fsyntax-only -I "$work/no_flatbuffers" \
    -I "$work/prefix/include" -x c++ - || { echo "run.sh: <mantis/$header.hpp> needs flatbuffers" >&2; exit 1; }
done
if echo "#include <mantis/flatbuffers.hpp>" | c++ -std=c++20 -fsyntax-only -I "$work/no_flatbuffers" \
  -I "$work/prefix/include" -x c++ - 2>/dev/null; then
  echo "run.sh: the flatbuffers headers are still reachable: the check above proves nothing" >&2
  exit 1
fi

cmake -S "$root/tests/consumer/find_package" -B "$work/find_package" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_PREFIX_PATH=$work/prefix"
cmake --build "$work/find_package" --parallel "$jobs"
ctest --test-dir "$work/find_package" --output-on-failure

echo "-- add_subdirectory: building mantis as a subproject"
# No build type: the consumer checks that mantis, as a subproject, leaves it unset.
cmake -S "$root/tests/consumer/add_subdirectory" -B "$work/add_subdirectory" -G Ninja "-DMANTIS_SOURCE_DIR=$root"
cmake --build "$work/add_subdirectory" --parallel "$jobs"
ctest --test-dir "$work/add_subdirectory" --output-on-failure

echo "-- pkg-config: a C program built with cc \$(pkg-config --cflags --libs mantis_c)"
command -v pkg-config >/dev/null || { echo "run.sh: pkg-config is missing (scripts/install-deps.sh --go)" >&2; exit 1; }
pc_dir="$(dirname "$(find "$work/prefix" -name mantis_c.pc -print -quit)")"
[[ -f "$pc_dir/mantis.pc" && -f "$pc_dir/mantis_c.pc" ]] || { echo "run.sh: mantis.pc / mantis_c.pc not installed" >&2; exit 1; }
mkdir -p "$work/pkgconfig_c"
# shellcheck disable=SC2046 # pkg-config's output is meant to be split into flags
cc -std=c99 -Wall -Wextra -Werror -o "$work/pkgconfig_c/consumer" "$root/tests/consumer/pkgconfig_c/consumer.c" \
  $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs mantis_c)
# Runs without LD_LIBRARY_PATH: the .pc's rpath finds libmantis_c, whose $ORIGIN rpath finds libmantis.
env -u LD_LIBRARY_PATH "$work/pkgconfig_c/consumer"
PKG_CONFIG_PATH="$pc_dir" pkg-config --exists --print-errors 'mantis >= 0.1' mantis_c
