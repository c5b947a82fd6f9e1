// Durable append throughput and full-log read speed of the event store.
//
//   build/bench/append                    64 appenders + read (headline)
//   build/bench/append --appenders 1,8,64 --seconds 5 --read-events 500000
//
// For each appender count: N threads append one ~300-byte event each per
// call (sync = true, group commit) for --seconds; then the ceiling: N threads
// writing synced RocksDB WriteBatches of the same bytes with no event-store
// logic. Prints events/s, the ratio to the ceiling and p50/p99 latency. Then
// fills a store with --read-events events and reads the whole log decoding
// every event on one thread. The last line is one JSON object.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cairn/core/json_writer.hpp"
#include "cairn/eventstore/event_store.hpp"

namespace {

using cairn::eventstore::AppendRequest;
using cairn::eventstore::EventStore;
using cairn::eventstore::NewEvent;
using Clock = std::chrono::steady_clock;

constexpr size_t kEventBytes = 300;

struct Figures {
  double events_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

std::string TempDir() {
  std::string t =
      (std::filesystem::temp_directory_path() / "cairn-bench-XXXXXX").string();
  return ::mkdtemp(t.data());
}

// An event whose stored envelope is about kEventBytes long.
NewEvent MakeEvent(int thread) {
  NewEvent e;
  e.stream = "goal-bench-" + std::to_string(thread);
  e.type = "goal.checked_in";
  e.actor = "bench";
  cairn::Event sample;
  sample.position = 1000000;
  sample.stream = e.stream;
  sample.version = 1000;
  sample.type = e.type;
  sample.id = std::string(26, '0');
  sample.actor = e.actor;
  sample.hash = std::string(64, '0');
  sample.data = R"({"note":""})";
  size_t base = cairn::EncodeEnvelope(sample).size();
  size_t pad = kEventBytes > base ? kEventBytes - base : 0;
  e.data = R"({"note":")" + std::string(pad, 'x') + R"("})";
  return e;
}

Figures Summarize(std::vector<std::vector<double>>& lat, uint64_t events,
                  double seconds) {
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Figures f;
  f.events_per_s = events / seconds;
  if (!all.empty()) {
    f.p50_ms = all[all.size() / 2];
    f.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return f;
}

Figures RunStore(int appenders, double seconds) {
  std::string dir = TempDir();
  Figures f;
  {
    cairn::eventstore::Options o;
    o.path = dir;
    auto store = EventStore::Open(o);
    if (!store) {
      std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
      std::exit(1);
    }
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> events{0};
    std::vector<std::vector<double>> lat(appenders);
    std::vector<std::thread> ts;
    auto start = Clock::now();
    for (int t = 0; t < appenders; ++t) {
      ts.emplace_back([&, t] {
        AppendRequest r;
        r.events.push_back(MakeEvent(t));
        while (!stop.load(std::memory_order_relaxed)) {
          auto t0 = Clock::now();
          auto res = (*store)->Append(r);
          auto t1 = Clock::now();
          if (!res) {
            std::fprintf(stderr, "append: %s\n", res.error().message.c_str());
            std::exit(1);
          }
          lat[t].push_back(
              std::chrono::duration<double, std::milli>(t1 - t0).count());
          events.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : ts) t.join();
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    f = Summarize(lat, events.load(), secs);
  }
  std::filesystem::remove_all(dir);
  return f;
}

Figures RunCeiling(int appenders, double seconds) {
  std::string dir = TempDir();
  Figures f;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, dir, &raw).ok()) std::exit(1);
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string value(kEventBytes, 'x');
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> seq{0};
    std::vector<std::vector<double>> lat(appenders);
    std::vector<std::thread> ts;
    auto start = Clock::now();
    for (int t = 0; t < appenders; ++t) {
      ts.emplace_back([&, t] {
        rocksdb::WriteOptions wo;
        wo.sync = true;
        while (!stop.load(std::memory_order_relaxed)) {
          uint64_t n = seq.fetch_add(1);
          char key[8];
          for (int i = 7; i >= 0; --i, n >>= 8) key[i] = char(n & 0xff);
          rocksdb::WriteBatch b;
          b.Put(rocksdb::Slice(key, 8), value);
          auto t0 = Clock::now();
          if (!db->Write(wo, &b).ok()) std::exit(1);
          auto t1 = Clock::now();
          lat[t].push_back(
              std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : ts) t.join();
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    uint64_t done = 0;
    for (auto& v : lat) done += v.size();
    f = Summarize(lat, done, secs);
    db->Close().PermitUncheckedError();
  }
  std::filesystem::remove_all(dir);
  return f;
}

// Events per second of ReadAll over `events` events, decoding each.
double RunRead(uint64_t events) {
  std::string dir = TempDir();
  double rate = 0;
  {
    cairn::eventstore::Options o;
    o.path = dir;
    o.sync = false;  // filling only; reads do not depend on it
    auto store = EventStore::Open(o);
    if (!store) std::exit(1);
    std::vector<AppendRequest> reqs(1000);
    for (int i = 0; i < 1000; ++i) reqs[i].events.push_back(MakeEvent(i % 64));
    for (uint64_t n = 0; n < events; n += reqs.size()) {
      for (auto& r : (*store)->AppendMany(reqs)) {
        if (!r) std::exit(1);
      }
    }
    // Reopen: as in a server start, the log is read from SST files.
    store->reset();
    o.sync = true;
    store = EventStore::Open(o);
    if (!store) std::exit(1);
    // Warm the OS cache once, then measure.
    uint64_t count = 0, bytes = 0;
    for (int pass = 0; pass < 2; ++pass) {
      count = bytes = 0;
      auto t0 = Clock::now();
      auto st = (*store)->ReadAll(0, [&](const cairn::Event& e) {
        ++count;
        bytes += e.data.size();
        return true;
      });
      double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      if (!st.ok() || count == 0) std::exit(1);
      rate = count / secs;
    }
    std::printf("read: %llu events, %.0f events/s (one thread, decoded)\n",
                static_cast<unsigned long long>(count), rate);
  }
  std::filesystem::remove_all(dir);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> appenders = {64};
  double seconds = 5;
  uint64_t read_events = 1000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--appenders") {
      appenders.clear();
      size_t p = 0;
      while (p <= v.size()) {
        size_t c = v.find(',', p);
        if (c == std::string::npos) c = v.size();
        appenders.push_back(std::stoi(v.substr(p, c - p)));
        p = c + 1;
      }
    } else if (k == "--seconds") {
      seconds = std::stod(v);
    } else if (k == "--read-events") {
      read_events = std::stoull(v);
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  Figures last, last_ceiling;
  for (int n : appenders) {
    Figures s = RunStore(n, seconds);
    Figures c = RunCeiling(n, seconds);
    std::printf(
        "appenders %3d: store %9.0f events/s (p50 %.2f ms, p99 %.2f ms); "
        "ceiling %9.0f events/s (p50 %.2f ms, p99 %.2f ms); ratio %.2f\n",
        n, s.events_per_s, s.p50_ms, s.p99_ms, c.events_per_s, c.p50_ms,
        c.p99_ms, s.events_per_s / c.events_per_s);
    std::fflush(stdout);
    last = s;
    last_ceiling = c;
  }
  double read = read_events > 0 ? RunRead(read_events) : 0;
  cairn::JsonWriter w;
  w.BeginObject();
  w.Key("bench").String("append");
  w.Key("appenders").Int(appenders.back());
  w.Key("events_per_s").Number(cairn::Round4(last.events_per_s));
  w.Key("ceiling_events_per_s")
      .Number(cairn::Round4(last_ceiling.events_per_s));
  w.Key("ratio").Number(
      cairn::Round4(last.events_per_s / last_ceiling.events_per_s));
  w.Key("p50_ms").Number(cairn::Round4(last.p50_ms));
  w.Key("p99_ms").Number(cairn::Round4(last.p99_ms));
  w.Key("read_events_per_s").Number(cairn::Round4(read));
  w.EndObject();
  std::printf("%s\n", std::move(w).Take().c_str());
}
