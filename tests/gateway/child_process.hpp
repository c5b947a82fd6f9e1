// The cairn binary as a child process, for the tests that kill it or watch
// its memory (kill_test, soak_test): a free loopback port, Spawn, WaitExit,
// and StartServer / KillChild / StopChild for `cairn serve`:
//
//   ServerChild s = StartServer(data_dir, {"--admin-token", "t"}, log);
//   ASSERT_GT(s.pid, 0);        // /healthz answered on 127.0.0.1:s.port
//   KillChild(s.pid);           // SIGKILL + reap; pid = -1
//   EXPECT_EQ(StopChild(s.pid, 30s), 0);  // SIGTERM: a clean stop
//
// Needs CAIRN_BIN, the binary's path, defined by the target.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "http_client.hpp"

#ifndef CAIRN_BIN
#error "child_process.hpp needs CAIRN_BIN (the cairn binary's path)"
#endif

namespace cairn::gateway {

// A loopback port that was free a moment ago.
inline uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  uint16_t port = 0;
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// Starts `cairn` with args; output goes to log. Returns the pid (-1 on error).
// With a `wrapper` (a program's full path and its arguments, e.g.
// {"/usr/bin/prlimit", "--nofile=128:128"}), runs `cairn` through it.
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& log,
                   const std::vector<std::string>& wrapper = {}) {
  std::vector<char*> argv;
  for (const auto& w : wrapper) argv.push_back(const_cast<char*>(w.c_str()));
  argv.push_back(const_cast<char*>(CAIRN_BIN));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// Waits for a child, at most timeout; returns its exit status, or -1 when it
// did not exit normally in time (it is then killed).
inline int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int st = 0;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// SIGKILLs the child and reaps it; pid becomes -1. No-op when pid <= 0.
inline void KillChild(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  pid = -1;
}

// A clean stop: SIGTERM, then WaitExit. Returns the exit status, -1 when the
// child did not exit normally in time (it is then killed). pid becomes -1.
inline int StopChild(pid_t& pid, std::chrono::milliseconds timeout) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  int rc = WaitExit(pid, timeout);
  pid = -1;
  return rc;
}

// A `cairn serve` child listening on 127.0.0.1:port.
struct ServerChild {
  pid_t pid = -1;  // -1: it did not start
  uint16_t port = 0;
};

// Starts `cairn serve --data data --listen 127.0.0.1:<free port>` followed by
// `args`, output appended to `log`, and waits until GET /healthz answers 200
// (at most 20 s). A child that exits first (its port was taken between
// FreePort and its bind) or never answers is killed and another port is
// tried, 5 attempts in all; pid is -1 when none started. `wrapper`: as for
// Spawn.
inline ServerChild StartServer(const std::string& data,
                               const std::vector<std::string>& args,
                               const std::string& log,
                               const std::vector<std::string>& wrapper = {}) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    ServerChild s;
    s.port = FreePort();
    if (s.port == 0) continue;
    std::vector<std::string> argv = {"serve", "--data", data, "--listen",
                                     "127.0.0.1:" + std::to_string(s.port)};
    argv.insert(argv.end(), args.begin(), args.end());
    s.pid = Spawn(argv, log, wrapper);
    if (s.pid <= 0) continue;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(s.pid, &st, WNOHANG) == s.pid) {
        s.pid = -1;  // exited (port taken?): try another port
        break;
      }
      HttpClient c("127.0.0.1", s.port);
      if (c.Send("GET", "/healthz").status == 200) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    KillChild(s.pid);
  }
  return {};
}

// StartServer as the load tests run it: `admin` as the admin token, no
// access log, no rate limit, two I/O threads.
inline ServerChild StartLoadServer(const std::string& data,
                                   const std::string& admin,
                                   const std::string& log) {
  return StartServer(data,
                     {"--admin-token", admin, "--quiet", "--rate-limit",
                      "1000000", "--threads", "2"},
                     log);
}

}  // namespace cairn::gateway
