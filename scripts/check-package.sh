#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds weft's Debian package and uses it as a user would, without installing it
# into the system: the `package` preset (Release, library only) -> cpack -G DEB ->
# dpkg -x into a scratch root -> tests/install built and run against that root with
# find_package and with pkg-config; then tests/install with add_subdirectory and
# FetchContent of this source tree. With clang++-19 present, the find_package
# consumer is also built with clang against the g++-built package (same libstdc++).
#
# Usage: bash scripts/check-package.sh [scratch-dir]   (default: a temporary one, removed)
# Honours CMAKE_CXX_COMPILER_LAUNCHER (e.g. ccache) from the environment.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=$PWD

if [[ $# -ge 1 ]]; then
  work=$1
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
work=$(cd "$work" && pwd)

step() { echo "--- check-package: $*"; }

step "build the library (package preset)"
cmake --preset package >/dev/null
cmake --build --preset package

step "cpack -G DEB"
rm -rf "$work/deb"
(cd build/package && cpack -G DEB -B "$work/deb")
deb=$(echo "$work"/deb/*.deb)
[[ -f $deb ]] || { echo "check-package: no .deb in $work/deb" >&2; exit 1; }
dpkg-deb --info "$deb"

step "contents of $(basename "$deb")"
contents=$(dpkg-deb --contents "$deb")
libdir=$(cmake -L -N build/package 2>/dev/null | sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p')
libdir=${libdir:-lib}
for f in ./usr/include/weft/weft.hpp ./usr/include/weft/version.hpp \
         "./usr/$libdir/libweft.a" \
         "./usr/$libdir/cmake/weft/weftConfig.cmake" "./usr/$libdir/cmake/weft/weftConfigVersion.cmake" \
         "./usr/$libdir/cmake/weft/weft-targets.cmake" \
         "./usr/$libdir/pkgconfig/weft.pc" ./usr/share/doc/weft/LICENSE; do
  if ! grep -qF " $f" <<<"$contents"; then
    echo "check-package: $f is missing from the package:" >&2
    echo "$contents" >&2
    exit 1
  fi
done
echo "headers, library, CMake config, weft.pc and LICENSE present ($(grep -c '^-' <<<"$contents") files)"

step "dpkg -x into $work/root"
rm -rf "$work/root"
dpkg -x "$deb" "$work/root"
prefix=$work/root/usr

consumer() {   # consumer <name> <cmake args...>: configure, build and run tests/install
  local name=$1
  shift
  step "tests/install: $name"
  rm -rf "$work/$name"
  cmake -S tests/install -B "$work/$name" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_COMPILE_WARNING_AS_ERROR=ON "$@"
  cmake --build "$work/$name" -j 2
  ctest --test-dir "$work/$name" --output-on-failure --no-tests=error
}

consumer find_package -DWEFT_CONSUME=find_package -DCMAKE_PREFIX_PATH="$prefix"
PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" consumer pkg-config -DWEFT_CONSUME=pkg-config
if command -v clang++-19 >/dev/null; then
  consumer find_package-clang -DWEFT_CONSUME=find_package -DCMAKE_PREFIX_PATH="$prefix" \
           -DCMAKE_CXX_COMPILER=clang++-19
fi
consumer add_subdirectory -DWEFT_CONSUME=add_subdirectory -DWEFT_SOURCE_DIR="$src"
consumer FetchContent -DWEFT_CONSUME=FetchContent -DWEFT_SOURCE_DIR="$src"

step "passed: $(basename "$deb")"
