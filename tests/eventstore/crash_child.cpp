// Appends from several threads until killed, writing each acknowledged
// position as one line "<position> <id>\n" to stdout (a pipe to the parent),
// after the append returned. Usage: eventstore_crash_child <store path>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cairn/eventstore/event_store.hpp"

using cairn::eventstore::AppendRequest;
using cairn::eventstore::EventStore;
using cairn::eventstore::NewEvent;
using cairn::eventstore::Options;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <store>\n", argv[0]);
    return 2;
  }
  Options o;
  o.path = argv[1];
  auto store = EventStore::Open(o);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    return 1;
  }
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0;; ++i) {
        AppendRequest r;
        int n = 1 + static_cast<int>(i % 3);  // multi-event, multi-stream
        for (int k = 0; k < n; ++k) {
          NewEvent e;
          e.stream = "goal-t" + std::to_string(t) + "-" + std::to_string(k);
          e.type = "crash.tested";
          e.actor = "child";
          e.data = R"({"thread":)" + std::to_string(t) + R"(,"i":)" +
                   std::to_string(i) + "}";
          r.events.push_back(std::move(e));
        }
        auto res = (*store)->Append(r);
        if (!res) {
          std::fprintf(stderr, "append: %s\n", res.error().message.c_str());
          std::_Exit(1);
        }
        std::string lines;
        for (const auto& e : res->events) {
          lines += std::to_string(e.position) + " " + e.id + "\n";
        }
        // One write per request: a pipe write this small is atomic.
        if (::write(STDOUT_FILENO, lines.data(), lines.size()) < 0) {
          std::_Exit(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}
