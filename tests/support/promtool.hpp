// SPDX-License-Identifier: MIT
#pragma once
// Runs Prometheus's own checker over metrics text (Debian package
// `prometheus`, installed by scripts/install-deps.sh).
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace weft::test {

struct promtool_verdict {
  bool passed = false;   ///< promtool exited with 0
  std::string output;    ///< its stdout and stderr: empty when it has no complaint
};

/// `promtool check metrics` over `text`; nullopt when promtool is not installed.
inline std::optional<promtool_verdict> promtool_check_metrics(const std::string& text) {
  if (::access("/usr/bin/promtool", X_OK) != 0) return std::nullopt;
  char path[] = "/tmp/weft-metrics-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return promtool_verdict{false, "mkstemp failed"};
  ::close(fd);
  std::ofstream(path) << text;
  promtool_verdict verdict;
  const std::string command = std::string("/usr/bin/promtool check metrics < ") + path + " 2>&1";
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, pipe)) verdict.output += buf;
    const int status = ::pclose(pipe);
    verdict.passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  } else {
    verdict.output = "popen failed";
  }
  ::unlink(path);
  return verdict;
}

inline constexpr const char* promtool_missing =
    "promtool not installed (Debian package `prometheus`, see scripts/install-deps.sh)";

}  // namespace weft::test
