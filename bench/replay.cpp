// bench/replay: how fast the model is rebuilt from the log.
//
// Generates a realistic log through Decide (200 units, 20,000 goals, then
// check-ins, metric points, edits and status changes up to N events),
// encodes each event as its stored envelope, then times the rebuild: decode
// every envelope and Apply it to an empty State. Prints events/s and peak
// RSS; the last line is one JSON object.
//
//   build/bench/replay [events]     (default 1000000)
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cairn/core/apply.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/event.hpp"
#include "realistic_org.hpp"

namespace cairn {
namespace {

using bench::kGoals;
using bench::kMetrics;
using bench::kUnits;

// The log as stored: envelopes back to back, with their offsets.
struct Log {
  std::string bytes;
  std::vector<size_t> ends;
  std::string_view At(size_t i) const {
    size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
  size_t size() const { return ends.size(); }
};

class Generator {
 public:
  explicit Generator(size_t target) : target_(target), activity_(20270201) {}

  Log Run() {
    log_.bytes.reserve(target_ * 480);
    log_.ends.reserve(target_);
    Setup();
    std::vector<std::string> goal_ids;
    goal_ids.reserve(state_.goals.size());
    for (const auto& [id, g] : state_.goals) {
      if (g.measure) goal_ids.push_back(id);
    }
    while (log_.size() < target_) {
      Command c = activity_.Next(goal_ids, state_, now_);
      Do(c, activity_.Context(false, now_));
    }
    return std::move(log_);
  }

  const State& state() const { return state_; }

 private:
  void Do(const Command& cmd, const CommandContext& ctx) {
    auto r = Decide(state_, cmd, ctx);
    if (!r.ok()) return;  // invalid commands append nothing
    for (const PendingEvent& p : *r) {
      if (log_.size() >= target_) return;
      Event e;
      e.position = log_.size() + 1;
      e.stream = p.stream;
      e.version = p.expected_version + 1;
      e.type = p.type;
      char id[32];
      std::snprintf(id, sizeof id, "01jd%020llu",
                    static_cast<unsigned long long>(e.position));
      e.id = id;
      e.at = now_;
      e.actor = ctx.actor;
      e.hash.assign(64, 'a' + static_cast<char>(e.position % 6));
      e.data = p.data;
      e.meta = R"({"correlation_id":"c)" + std::to_string(e.position) + "\"}";
      Apply(state_, e);
      log_.bytes += EncodeEnvelope(e);
      log_.ends.push_back(log_.bytes.size());
    }
    now_ += 30'000;
  }

  void Setup() {
    for (const bench::OrgCommand& c : bench::RealisticOrgCommands()) {
      Do(c.command, activity_.Context(c.admin, now_));
    }
  }

  size_t target_;
  bench::OrgActivity activity_;
  State state_;
  Log log_;
  Millis now_ = *ParseTime("2026-01-01T08:00:00.000Z");
};

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double PeakRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // kilobytes on Linux
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

bool Rebuild(const Log& log, State& state) {
  // One Event reused for every envelope, as the store's scan does.
  Event e;
  for (size_t i = 0; i < log.size(); ++i) {
    if (Status st = DecodeEnvelopeInto(log.At(i), &e); !st.ok()) {
      std::fprintf(stderr, "event %zu: %s\n", i, st.error().message.c_str());
      return false;
    }
    Apply(state, e);
  }
  return true;
}

bool RebuildPipelined(const Log& log, State& state) {
  constexpr size_t kChunk = 4096;
  constexpr size_t kMaxQueued = 8;  // chunks decoded ahead
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<Event>> queue;
  // Applied chunks go back to the decoder, so their Events' strings are
  // reused rather than freed on this thread and allocated on that one.
  std::vector<std::vector<Event>> recycled;
  bool failed = false, done = false;
  std::thread decoder([&] {
    for (size_t begin = 0; begin < log.size(); begin += kChunk) {
      std::vector<Event> chunk;
      {
        std::lock_guard lock(mu);
        if (!recycled.empty()) {
          chunk = std::move(recycled.back());
          recycled.pop_back();
        }
      }
      const size_t n = std::min(log.size(), begin + kChunk) - begin;
      chunk.resize(n);
      for (size_t i = 0; i < n; ++i) {
        if (!DecodeEnvelopeInto(log.At(begin + i), &chunk[i]).ok()) {
          std::lock_guard lock(mu);
          failed = done = true;
          cv.notify_all();
          return;
        }
      }
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return queue.size() < kMaxQueued; });
      queue.push_back(std::move(chunk));
      cv.notify_all();
    }
    std::lock_guard lock(mu);
    done = true;
    cv.notify_all();
  });
  while (true) {
    std::vector<Event> chunk;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !queue.empty() || done; });
      if (queue.empty()) break;
      chunk = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    for (const Event& e : chunk) Apply(state, e);
    std::lock_guard lock(mu);
    recycled.push_back(std::move(chunk));
  }
  decoder.join();
  return !failed;
}

}  // namespace
}  // namespace cairn

int main(int argc, char** argv) {
  using namespace cairn;
  size_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  auto g0 = std::chrono::steady_clock::now();
  Log log;
  size_t live_goals = 0;
  uint64_t live_position = 0;
  {
    Generator gen(events);
    log = gen.Run();
    live_goals = gen.state().goals.size();
    live_position = gen.state().position;
  }
  auto g1 = std::chrono::steady_clock::now();
  std::printf("generated %zu events (%.1f MB of envelopes) in %.2f s\n",
              log.size(), log.bytes.size() / 1e6,
              std::chrono::duration<double>(g1 - g0).count());

  // Sequential: decode and apply on one thread.
  double seq_secs = 0, seq_cpu = 0;
  {
    State state;
    const double c0 = CpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    if (!Rebuild(log, state)) return 1;
    seq_secs = Since(t0);
    seq_cpu = CpuSeconds() - c0;
    if (state.goals.size() != live_goals || state.position != live_position) {
      std::fprintf(stderr, "rebuilt state differs from the live one\n");
      return 1;
    }
  }
  std::printf("sequential: %.3f s (%.3f s of CPU), %.0f events/s\n", seq_secs,
              seq_cpu, log.size() / seq_secs);
  // Pipelined: a second thread decodes envelopes while this one applies, in
  // position order.
  State state;
  auto t0 = std::chrono::steady_clock::now();
  if (!RebuildPipelined(log, state)) return 1;
  const double secs = Since(t0);
  if (state.goals.size() != live_goals || state.position != live_position) {
    std::fprintf(stderr, "rebuilt state differs from the live one\n");
    return 1;
  }
  std::printf("pipelined: %.3f s, %.0f events/s\n", secs, log.size() / secs);
  size_t check_ins = 0, points = 0;
  for (const auto& [id, g] : state.goals) check_ins += g.check_ins.size();
  for (const auto& [id, m] : state.metrics) points += m.points.size();
  double per_s = log.size() / std::min(secs, seq_secs);
  std::printf(
      "rebuilt %zu units, %zu goals, %zu check-ins, %zu metric points in "
      "%.3f s\n",
      state.units.size(), state.goals.size(), check_ins, points, secs);
  std::printf(
      "{\"bench\":\"replay\",\"events\":%zu,\"events_per_s\":%.0f,"
      "\"peak_rss_mb\":%.1f}\n",
      log.size(), per_s, PeakRssMb());
  return 0;
}
