// Readings of Linux's /proc files for the benchmarks' CPU and memory
// figures. Shared by bench/fanout (a child server process) and bench/http
// (the threads of its own process).
//
//   double secs = StatCpuSeconds("/proc/self/task/1234/stat");
//   double rss_kib = StatusValue("/proc/1234/status", "VmRSS:");
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace cairn::bench {

// User + system CPU seconds of a process or thread from its `stat` file
// (/proc/<pid>/stat, /proc/<pid>/task/<tid>/stat); 0 when unreadable.
inline double StatCpuSeconds(const std::filesystem::path& stat_file) {
  std::ifstream in(stat_file);
  std::string line;
  std::getline(in, line);
  // "pid (comm) state ...": comm may hold spaces; fields after the last ')'.
  const size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(line.substr(close_paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) {
      stime = std::atof(field.c_str());
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The number after `key` (e.g. "VmRSS:", "voluntary_ctxt_switches:") in a
// `status` file; 0 when absent.
inline double StatusValue(const std::filesystem::path& status_file,
                          std::string_view key) {
  std::ifstream in(status_file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key)) return std::atof(line.c_str() + key.size());
  }
  return 0;
}

}  // namespace cairn::bench
