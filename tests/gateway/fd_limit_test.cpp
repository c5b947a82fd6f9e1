// The real `cairn` binary with few file descriptors (run through prlimit):
// connections past the limit wait in the kernel's queue while the server
// neither spins on its failing accepts nor floods its log, and they are
// served once others close.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "http_client.hpp"
#include "server_fixture.hpp"

namespace cairn::gateway {
namespace {

using namespace std::chrono_literals;

// The child's user and system CPU time, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Fields after the command's closing parenthesis; utime and stime are
  // the 14th and 15th of the line, the 12th and 13th after it.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 1; i <= 13 && rest >> field; ++i) {
    if (i >= 12) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(FdLimitTest, OutOfDescriptorsNeitherSpinsNorFloodsAndRecovers) {
  TempDir dir;
  const std::string log = (dir.path() / "serve.log").string();
  ServerChild s = StartServer((dir.path() / "data").string(),
                              {"--admin-token", kAdmin, "--threads", "2"}, log,
                              {"/usr/bin/prlimit", "--nofile=128:128"});
  ASSERT_GT(s.pid, 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("open files limit (128)"), std::string::npos)
      << ReadFile(log);

  std::vector<int> clients;
  for (int i = 0; i < 300; ++i) {
    const int fd = ConnectLoopback(s.port);
    ASSERT_GE(fd, 0) << "connection " << i;
    clients.push_back(fd);
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ReadFile(log).find("accept failed") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(ReadFile(log).find("accept failed"), std::string::npos)
      << "the server never ran out of descriptors\n"
      << ReadFile(log);

  // Out of descriptors for a second, with connections waiting: an accept
  // loop that retried at once would keep a core busy.
  const double before = CpuSeconds(s.pid);
  std::this_thread::sleep_for(1s);
  const double cpu = CpuSeconds(s.pid) - before;
  RecordProperty("cpu_seconds_per_second", std::to_string(cpu));
  EXPECT_LT(cpu, 0.3) << "the server spun on its failing accepts";
  EXPECT_EQ(Count(ReadFile(log), "accept failed"), 1u) << ReadFile(log);

  // The waiting connections go; a new one is served.
  for (int fd : clients) ::close(fd);
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (status != 200 && std::chrono::steady_clock::now() < until) {
    HttpClient c("127.0.0.1", s.port);
    status = c.Send("GET", "/healthz").status;
    if (status != 200) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 200) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("accepting again after"), std::string::npos)
      << ReadFile(log);
  EXPECT_EQ(StopChild(s.pid, 30s), 0);
}

}  // namespace
}  // namespace cairn::gateway
