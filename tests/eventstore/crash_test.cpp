// Kills an appending child at random moments and checks that every append
// it saw acknowledged survived, positions are gapless and verify passes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "cairn/eventstore/event_store.hpp"
#include "cairn/eventstore/tools.hpp"
#include "temp_dir.hpp"

namespace cairn::eventstore {
namespace {

// Runs the child for `run_ms`, SIGKILLs it, returns what it acknowledged.
std::map<uint64_t, std::string> RunAndKill(const std::string& store,
                                           int run_ms) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(CAIRN_CRASH_CHILD, CAIRN_CRASH_CHILD, store.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string buf;
  // The random run starts once the child is appending (its first
  // acknowledgement), so a slow start (sanitizers, a busy machine) still
  // gets killed mid-append.
  auto start_limit =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto deadline = start_limit;
  bool started = false;
  char chunk[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 5) > 0) {
      ssize_t n = ::read(fds[0], chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      if (!started) {
        started = true;
        deadline = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(run_ms);
      }
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "child exited early: " << status;
  // Whatever reached the pipe before the kill was acknowledged.
  for (;;) {
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  std::map<uint64_t, std::string> acked;
  std::istringstream in(buf);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a torn last line (cannot happen; be safe)
    std::istringstream ls(line);
    uint64_t pos;
    std::string id;
    if (ls >> pos >> id) acked[pos] = id;
  }
  return acked;
}

TEST(Crash, AcknowledgedAppendsSurviveSigkill) {
  testing::TempDir dir;
  std::string path = dir.Sub("store");
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> run_ms(5, 200);
  std::map<uint64_t, std::string> all_acked;
  for (int round = 0; round < 20; ++round) {
    auto acked = RunAndKill(path, run_ms(rng));
    all_acked.insert(acked.begin(), acked.end());
    Options o;
    o.path = path;
    auto store = EventStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.error().message;
    uint64_t head = (*store)->Head();
    if (!all_acked.empty()) {
      ASSERT_GE(head, all_acked.rbegin()->first) << "round " << round;
    }
    for (const auto& [pos, id] : acked) {
      auto e = (*store)->ReadAt(pos);
      ASSERT_TRUE(e.ok()) << "round " << round << " lost position " << pos;
      ASSERT_EQ(e->id, id);
      ASSERT_EQ((*store)->FindId(id), pos);
    }
    auto rep = (*store)->Verify();
    ASSERT_TRUE(rep.ok) << "round " << round << ": " << rep.problems[0];
    ASSERT_EQ(rep.events, head);  // gapless from 1 to head
  }
  EXPECT_GT(all_acked.size(), 20u);
  std::ostringstream report;
  EXPECT_EQ(RunVerify(path, report), 0) << report.str();
}

}  // namespace
}  // namespace cairn::eventstore
