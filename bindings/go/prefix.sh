# Sourced by bindings/go/test.sh and bindings/go/peerbench/run.sh: builds libmantis and libmantis_c in
# a build directory, installs them into a scratch prefix inside it and points cgo at it.
#
#   source bindings/go/prefix.sh
#   mantis_go_prefix BUILD_DIR   # sets $prefix (BUILD_DIR/go-prefix); exports PKG_CONFIG_PATH,
#                                # GOFLAGS=-mod=mod, GOPROXY=off, CGO_ENABLED=1
# Reuses BUILD_DIR if it is configured; MANTIS_JOBS sets the build's parallelism (default: all cores).
# Installs the Go packages first (scripts/install-deps.sh --go).

mantis_go_prefix() {
  local build="$1"
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  [[ "$build" = /* ]] || build="$root/$build"
  "$root/scripts/install-deps.sh" --go
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    # The libraries only: the install below installs whatever the build directory configured.
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMANTIS_BUILD_TESTS=OFF \
      -DMANTIS_BUILD_BENCH=OFF -DMANTIS_BUILD_EXAMPLES=OFF -DMANTIS_BUILD_TOOLS=OFF -DMANTIS_BUILD_SERVER=OFF
  fi
  # Everything the directory configured (a no-op for a directory already built), so that the install
  # never looks for a target that was not built.
  cmake --build "$build" --parallel "${MANTIS_JOBS:-$(nproc)}"
  prefix="$build/go-prefix"
  rm -rf "$prefix"
  cmake --install "$build" --prefix "$prefix" >/dev/null
  local pc
  pc="$(find "$prefix" -name mantis_c.pc -print -quit)"
  [[ -n "$pc" ]] || { echo "prefix.sh: mantis_c.pc was not installed" >&2; return 1; }
  export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=1
}
