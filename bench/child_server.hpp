// The server under test in a child process, so that its CPU time and
// memory (/proc/<pid>/stat, /proc/<pid>/status) are its own and not the
// load generator's. Shared by bench/fanout and bench/snapshots.
//
//   ServerOptions o = BenchServerOptions(dir, token);   // then any others
//   uint16_t port = 0;
//   pid_t pid = ForkServer(o, port);   // port 0: it did not start
//   ...
//   kill(pid, SIGTERM); waitpid(pid, nullptr, 0);
//
// The parent must not have started RocksDB's (or any) threads before: the
// child has only the forking thread.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "allocator.hpp"
#include "server.hpp"

namespace cairn::bench {

// A benchmark's server: on `dir`, a free loopback port, `admin_token`, no
// rate limit, no access log.
inline gateway::ServerOptions BenchServerOptions(const std::string& dir,
                                                 const std::string& token) {
  gateway::ServerOptions o;
  o.data_dir = dir;
  o.port = 0;
  o.admin_token = token;
  o.rate_limit = 0;
  o.access_log = false;
  return o;
}

inline pid_t ForkServer(const gateway::ServerOptions& options, uint16_t& port) {
  port = 0;
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    gateway::TuneAllocator();  // as `cairn serve` does
    auto server = gateway::Server::Start(options);
    uint16_t p = server ? (*server)->port() : 0;
    if (write(fds[1], &p, sizeof p) != sizeof p) _exit(1);
    close(fds[1]);
    if (!server) _exit(1);
    for (;;) pause();
  }
  close(fds[1]);
  if (pid > 0 && read(fds[0], &port, sizeof port) != sizeof port) port = 0;
  close(fds[0]);
  return pid;
}

}  // namespace cairn::bench
