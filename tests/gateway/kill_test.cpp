// Kill test at the server level: the real `cairn` binary in a child process
// under a load of check-ins over keep-alive HTTP, with WebSocket subscribers
// following the log, SIGKILLed at random moments ten times (and stopped
// cleanly twice, first and midway, so every restart after a kill has a
// snapshot to start from). After each stop: `cairn verify` passes on the
// store, the restarted server has every acknowledged check-in, positions are
// gapless, stream versions are gapless, and each goal's projected current
// value and version agree with its log.
// The projections equal a rebuild: before each restart the test replays the
// log from event 1 into a fresh State in-process (never from a snapshot),
// renders every view the API offers for this company with the projections
// library, and compares them byte for byte with what the restarted server
// answers from its live model (newest snapshot + replay of the tail) with
// the same `now`, and with a few views `as_of` a position inside the last
// round (time travel: snapshot + replay). The State the server's start-up
// loads (LoadAt: snapshot + replay) is also compared whole, encoded, with
// the rebuild. Before each clean stop the same views of the running server
// (its model kept up to date batch by batch, and the one the stop's
// snapshot encodes) are compared with the rebuild as well.
// After each restart the subscribers resume with `from` = the last position
// they saw; each must have seen exactly the log's events that touch its
// subscription: no gap, no duplicate, in increasing order.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/core/apply.hpp"
#include "cairn/core/json_writer.hpp"
#include "cairn/core/model.hpp"
#include "cairn/core/state_codec.hpp"
#include "cairn/core/time.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "cairn/projections/board.hpp"
#include "cairn/projections/diff.hpp"
#include "cairn/projections/entities.hpp"
#include "cairn/projections/retro.hpp"
#include "child_process.hpp"
#include "http_client.hpp"
#include "server_fixture.hpp"
#include "time_travel.hpp"
#include "ws_client.hpp"

namespace cairn::gateway {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kAdmin[] = "kill-test-admin";
constexpr int kKills = 10;
constexpr int kWriters = 4;

// A live subscription and the streams whose events it must receive
// (units co > u0 {g0, g1}, u1 {g2, g3}; cycle y).
struct SubSpec {
  std::string sub;
  std::string unit;
  int depth;
  std::string cycle;
  std::vector<std::string> streams;  // empty: every stream
};

const std::vector<SubSpec>& Subs() {
  static const std::vector<SubSpec> subs = {
      {"all", "co", -1, "", {}},
      {"u0", "u0", 0, "y", {"cycle-y", "unit-u0", "goal-g0", "goal-g1"}},
      {"u1", "u1", 0, "y", {"cycle-y", "unit-u1", "goal-g2", "goal-g3"}},
  };
  return subs;
}

// What one subscriber saw over every connection.
struct SubSeen {
  std::vector<uint64_t> positions;
  std::string epoch;
  int connections = 0;
  int slow_closes = 0;
  std::string problem;  // first unexpected message
};

// Connects, subscribes with `from` = the last position seen (and the epoch
// it came from) and reads until the connection ends. A `slow consumer`
// close reconnects at once; the server's death ends the round. With
// `until_synced`, returns once the backlog is sent.
void Follow(uint16_t port, const SubSpec& spec, SubSeen& seen,
            bool until_synced) {
  for (int attempt = 0; attempt < 100 && seen.problem.empty(); ++attempt) {
    LiveClient ws(port, kAdmin);
    if (!ws.ok()) return;  // the server is gone
    const int64_t from = seen.positions.empty()
                             ? 0
                             : static_cast<int64_t>(seen.positions.back());
    if (!ws.Send(SubscribeMessage(spec.sub, spec.unit, spec.depth, spec.cycle,
                                  from, seen.epoch))) {
      return;
    }
    ++seen.connections;
    for (;;) {
      LiveMsg m = ws.Read(std::chrono::seconds(10));
      if (m.op == "event") {
        if (!seen.positions.empty() && m.position <= seen.positions.back()) {
          seen.problem = "position " + std::to_string(m.position) + " after " +
                         std::to_string(seen.positions.back());
          return;
        }
        seen.positions.push_back(m.position);
      } else if (m.op == "synced") {
        if (seen.epoch.empty()) seen.epoch = m.epoch;
        if (m.epoch != seen.epoch) {
          seen.problem = "epoch changed: " + m.raw;
          return;
        }
        if (until_synced) {
          ws.Close();
          return;
        }
      } else if (m.op == "close" && m.close_code == 4008) {
        ++seen.slow_closes;
        break;  // reconnect with from = the last position seen
      } else if (m.op == "close") {
        return;  // killed
      } else {
        seen.problem = m.op + " " + m.raw;
        return;
      }
    }
  }
}

HeaderList Auth() {
  return {{"Authorization", std::string("Bearer ") + kAdmin}};
}

// One view: a request target and the body the server must answer.
struct View {
  std::string target;
  std::string body;
};

template <typename F>
std::string Render(F&& write) {
  JsonWriter w;
  write(w);
  return std::move(w).Take();
}

// The model rebuilt from event 1 by Apply alone (never from a snapshot),
// and the events of every goal stream (the retrospective reads them).
struct Rebuild {
  State state;
  std::map<std::string, std::vector<::cairn::Event>> goal_streams;
};

// What GET /api/v1/retro reads: the events of the retrospective's streams
// up to the State's position.
std::vector<::cairn::Event> RetroEvents(const Rebuild& r, const State& s,
                                        const std::string& unit) {
  std::vector<::cairn::Event> out;
  for (const std::string& stream : projections::RetroStreams(s, unit, "y")) {
    auto it = r.goal_streams.find(stream);
    if (it == r.goal_streams.end()) continue;
    for (const ::cairn::Event& e : it->second) {
      if (e.position <= s.position) out.push_back(e);
    }
  }
  return out;
}

// Every read view of the model the API offers, as the server must render it
// from a State equal to the rebuild with `now` = the `at` of its last event:
// the unit, cycle, goal and metric lists and entities, each unit's board
// (depth 0 and the subtree, in the cycle and across cycles), scorecard and
// retrospective. The targets carry that `now` and no `as_of`, so the server
// answers from its live model; one more asks `as_of` = the head, which the
// server also answers from the live model (TimeTravel::StateAt returns the
// live State when it is at that position) with the same clock.
std::vector<View> LiveViews(const Rebuild& r) {
  const State& s = r.state;
  const Millis at = s.at;
  const std::string now = "now=" + FormatTime(at);
  std::vector<View> v;
  v.push_back({"/api/v1/units?" + now,
               Render([&](JsonWriter& w) { projections::WriteUnits(w, s); })});
  for (const auto& [id, u] : s.units) {
    v.push_back({"/api/v1/units/" + id + "?" + now, Render([&](JsonWriter& w) {
                   w.BeginObject();
                   projections::WriteUnitMembers(w, u, true);
                   w.Key("position").Uint(s.position);
                   w.EndObject();
                 })});
  }
  v.push_back({"/api/v1/cycles?" + now,
               Render([&](JsonWriter& w) { projections::WriteCycles(w, s); })});
  for (const auto& [id, c] : s.cycles) {
    v.push_back({"/api/v1/cycles/" + id + "?" + now, Render([&](JsonWriter& w) {
                   w.BeginObject();
                   projections::WriteCycleMembers(w, s, c);
                   w.Key("position").Uint(s.position);
                   w.EndObject();
                 })});
  }
  auto goal_list = [&](const State& st) {
    return Render([&](JsonWriter& w) {
      projections::GoalWriter gw(st, st.at);
      w.BeginObject().Key("goals").BeginArray();
      for (const auto& [id, g] : st.goals) gw.Write(w, g);
      w.EndArray();
      w.Key("position").Uint(st.position);
      w.EndObject();
    });
  };
  v.push_back({"/api/v1/goals?" + now, goal_list(s)});
  for (const auto& [id, g] : s.goals) {
    v.push_back({"/api/v1/goals/" + id + "?" + now, Render([&](JsonWriter& w) {
                   w.BeginObject();
                   projections::WriteGoalMembers(w, s, g, at);
                   w.Key("position").Uint(s.position);
                   w.EndObject();
                 })});
  }
  for (const auto& [id, m] : s.metrics) {
    v.push_back(
        {"/api/v1/metrics/" + id + "?" + now, Render([&](JsonWriter& w) {
           w.BeginObject();
           projections::WriteMetricMembers(w, m,
                                           std::numeric_limits<Millis>::min(),
                                           std::numeric_limits<Millis>::max());
           w.Key("position").Uint(s.position);
           w.EndObject();
         })});
  }
  for (const auto& [id, u] : s.units) {
    for (int depth : {0, 9}) {
      v.push_back({"/api/v1/boards/" + id +
                       "?cycle=y&depth=" + std::to_string(depth) + "&" + now,
                   Render([&](JsonWriter& w) {
                     projections::WriteBoard(w, s, id, "y", depth, at);
                   })});
    }
    v.push_back(
        {"/api/v1/boards/" + id + "?depth=9&" + now, Render([&](JsonWriter& w) {
           projections::WriteBoard(w, s, id, "", 9, at);
         })});
    v.push_back({"/api/v1/scorecards/" + id + "?cycle=y&depth=9&" + now,
                 Render([&](JsonWriter& w) {
                   projections::WriteScorecard(w, s, id, "y", at, 9);
                 })});
    auto retro =
        projections::ComputeRetro(s, id, "y", RetroEvents(r, s, id), at);
    EXPECT_TRUE(retro.ok()) << retro.error().message;
    if (retro.ok()) {
      v.push_back(
          {"/api/v1/retro?unit=" + id + "&cycle=y&" + now,
           Render([&](JsonWriter& w) { projections::WriteRetro(w, *retro); })});
    }
  }
  v.push_back(
      {"/api/v1/boards/co?cycle=y&depth=9&as_of=" + std::to_string(s.position),
       Render([&](JsonWriter& w) {
         projections::WriteBoard(w, s, "co", "y", 9, at);
       })});
  return v;
}

// Views `as_of` an earlier position p (the server builds that State by time
// travel: the newest snapshot at or before p + replay), with `now` = the
// `at` of p's event as the contract has it, and the diff from p to the head.
std::vector<View> AsOfViews(const State& past, const State& head) {
  const std::string as_of = "as_of=" + std::to_string(past.position);
  std::vector<View> v;
  v.push_back(
      {"/api/v1/boards/co?cycle=y&depth=9&" + as_of, Render([&](JsonWriter& w) {
         projections::WriteBoard(w, past, "co", "y", 9, past.at);
       })});
  v.push_back({"/api/v1/scorecards/co?cycle=y&depth=9&" + as_of,
               Render([&](JsonWriter& w) {
                 projections::WriteScorecard(w, past, "co", "y", past.at, 9);
               })});
  v.push_back({"/api/v1/goals/g0?" + as_of, Render([&](JsonWriter& w) {
                 w.BeginObject();
                 projections::WriteGoalMembers(w, past, *past.FindGoal("g0"),
                                               past.at);
                 w.Key("position").Uint(past.position);
                 w.EndObject();
               })});
  v.push_back(
      {"/api/v1/diff?unit=co&cycle=y&from=" + std::to_string(past.position) +
           "&to=" + std::to_string(head.position),
       Render([&](JsonWriter& w) {
         projections::WriteDiff(w, projections::DiffGoals(past, head, "co", "y",
                                                          past.at, head.at));
       })});
  return v;
}

// Fetches every view and compares the body byte for byte; returns how many
// were equal and reports each difference with its context.
size_t CompareViews(HttpClient& c, const std::vector<View>& views) {
  size_t equal = 0;
  for (const View& v : views) {
    auto r = c.Send("GET", v.target, {}, Auth());
    EXPECT_EQ(r.status, 200) << v.target << " " << r.body;
    if (r.body == v.body) {
      ++equal;
      continue;
    }
    size_t at = 0;
    while (at < r.body.size() && at < v.body.size() && r.body[at] == v.body[at])
      ++at;
    const size_t from = at > 80 ? at - 80 : 0;
    ADD_FAILURE() << "GET " << v.target << " differs from the rebuild at byte "
                  << at << "\n  server:  ..." << r.body.substr(from, 200)
                  << "\n  rebuild: ..." << v.body.substr(from, 200);
  }
  return equal;
}

struct LoggedEvent {
  uint64_t position = 0;
  std::string stream;
  uint64_t version = 0;
  std::string type;
  double value = 0;
  bool has_value = false;
};

class KillTest : public ::testing::Test {
 protected:
  void TearDown() override { KillServer(); }

  // Starts the server on a fresh port and waits until /healthz answers.
  void StartServer() {
    ServerChild s =
        StartLoadServer(Data(), kAdmin, (dir_.path() / "server.log").string());
    pid_ = s.pid;
    port_ = s.port;
    ASSERT_GT(pid_, 0) << "server did not start; see "
                       << (dir_.path() / "server.log");
  }

  void KillServer() { KillChild(pid_); }

  std::string Data() const { return (dir_.path() / "data").string(); }

  ClientResponse Call(HttpClient& c, const std::string& method,
                      const std::string& target, const std::string& body = {}) {
    return c.Send(method, target, body, Auth());
  }

  void Seed() {
    HttpClient c("127.0.0.1", port_);
    ASSERT_EQ(Call(c, "POST", "/api/v1/units",
                   R"({"id":"co","name":"Co","kind":"company"})")
                  .status,
              201);
    for (const char* u : {"u0", "u1"}) {
      ASSERT_EQ(Call(c, "POST", "/api/v1/units",
                     std::string(R"({"id":")") + u + R"(","name":")" + u +
                         R"(","kind":"team","parent":"co"})")
                    .status,
                201);
    }
    ASSERT_EQ(
        Call(
            c, "POST", "/api/v1/cycles",
            R"({"id":"y","name":"Year","kind":"year","start":"2020-01-01","end":"2040-12-31"})")
            .status,
        201);
    ASSERT_EQ(Call(c, "POST", "/api/v1/goals",
                   R"({"id":"o0","kind":"objective","title":"Grow the )"
                   R"(company fast","unit":"co","cycle":"y","owner":"ceo",)"
                   R"("perspective":"financial"})")
                  .status,
              201);
    for (int g = 0; g < kWriters; ++g) {
      const std::string body =
          R"({"id":"g)" + std::to_string(g) +
          R"(","kind":"key_result","title":"Grow the number",)"
          R"("parent":"o0","perspective":"customer","weight":)" +
          std::to_string(g + 1) + R"(,"unit":"u)" + std::to_string(g / 2) +
          R"(","cycle":"y","measure":{"start":0,"target":1000000}})";
      auto r = Call(c, "POST", "/api/v1/goals", body);
      ASSERT_EQ(r.status, 201) << r.body;
    }
    // More for the views to show: a target moved (retro), a KPI bound to a
    // metric with points, a retrospective note.
    auto ok = [&](const std::string& method, const std::string& target,
                  const std::string& body) {
      auto r = Call(c, method, target, body);
      ASSERT_GE(r.status, 200) << target << " " << r.body;
      ASSERT_LT(r.status, 300) << target << " " << r.body;
    };
    ASSERT_NO_FATAL_FAILURE(
        ok("PATCH", "/api/v1/goals/g3",
           R"({"measure":{"target":2000000},"reason":"a bigger market"})"));
    ASSERT_NO_FATAL_FAILURE(
        ok("POST", "/api/v1/metrics", R"({"id":"m0","name":"Signups"})"));
    ASSERT_NO_FATAL_FAILURE(
        ok("POST", "/api/v1/goals",
           R"({"id":"k0","kind":"kpi","title":"Keep signups growing",)"
           R"("unit":"co","cycle":"y","owner":"ceo","perspective":"internal",)"
           R"("measure":{"start":0,"target":100,"metric":"m0"}})"));
    ASSERT_NO_FATAL_FAILURE(
        ok("POST", "/api/v1/metrics/m0/values",
           R"({"points":[{"ts":"2021-01-01T00:00:00.000Z","value":10},)"
           R"({"ts":"2022-01-01T00:00:00.000Z","value":30}]})"));
    ASSERT_NO_FATAL_FAILURE(
        ok("POST", "/api/v1/retro/notes",
           R"({"unit":"co","cycle":"y","kind":"lesson","text":"Ship daily"})"));
  }

  // Every event of the log (optionally of one stream), oldest first.
  std::vector<LoggedEvent> Events(HttpClient& c, const std::string& stream,
                                  uint64_t& head) {
    std::vector<LoggedEvent> out;
    uint64_t from = 0;
    for (int page = 0; page < 1000; ++page) {
      std::string target =
          "/api/v1/events?limit=10000&from=" + std::to_string(from);
      if (!stream.empty()) target += "&stream=" + stream;
      auto r = Call(c, "GET", target);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return out;
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      EXPECT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
      simdjson::dom::array events;
      EXPECT_EQ(doc["events"].get(events), simdjson::SUCCESS);
      uint64_t next = 0;
      EXPECT_EQ(doc["next"].get(next), simdjson::SUCCESS);
      EXPECT_EQ(doc["head"].get(head), simdjson::SUCCESS);
      size_t n = 0;
      for (simdjson::dom::element e : events) {
        LoggedEvent ev;
        EXPECT_EQ(e["position"].get(ev.position), simdjson::SUCCESS);
        EXPECT_EQ(e["version"].get(ev.version), simdjson::SUCCESS);
        std::string_view s, t;
        EXPECT_EQ(e["stream"].get(s), simdjson::SUCCESS);
        EXPECT_EQ(e["type"].get(t), simdjson::SUCCESS);
        ev.stream = s;
        ev.type = t;
        double v = 0;
        if (e.at_pointer("/data/value").get(v) == simdjson::SUCCESS) {
          ev.value = v;
          ev.has_value = true;
        }
        out.push_back(ev);
        ++n;
      }
      if (n == 0 || next <= from) break;
      from = next;
    }
    return out;
  }

  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

TEST_F(KillTest, EveryAcknowledgedCheckInSurvivesTenKills) {
  auto t0 = Clock::now();
  std::random_device rd;
  unsigned seed = rd();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));

  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(Seed());
  // Time-travel views ask for positions after the seed (the board's unit
  // and cycle exist there).
  uint64_t seeded = 0;
  {
    HttpClient c("127.0.0.1", port_);
    Events(c, "", seeded);
  }
  ASSERT_GT(seeded, 0u);

  // Per goal: every acknowledged value, and the next value to send (values
  // only grow, so the projected current value can be checked against them).
  std::vector<std::set<int64_t>> acked(kWriters);
  std::vector<int64_t> next_value(kWriters, 1);
  size_t total_acked = 0;
  size_t total_lost = 0;
  int kills = 0;
  std::vector<SubSeen> seen(Subs().size());
  Rebuild rebuild;
  size_t views_total = 0, running_total = 0, restarts = 0, with_snapshot = 0;
  size_t min_views = std::numeric_limits<size_t>::max(), max_views = 0;
  uint64_t max_tail = 0;

  // Each subscriber saw exactly the log's events that touch its
  // subscription, up to the last position it saw (all of them when
  // `complete`).
  auto check_subscribers = [&](const std::vector<LoggedEvent>& log,
                               bool complete) {
    for (size_t i = 0; i < Subs().size(); ++i) {
      const SubSpec& spec = Subs()[i];
      EXPECT_EQ(seen[i].problem, "") << "subscriber " << spec.sub;
      const uint64_t last =
          seen[i].positions.empty() ? 0 : seen[i].positions.back();
      std::vector<uint64_t> expected;
      for (const LoggedEvent& e : log) {
        if (!complete && e.position > last) break;
        // A metric's definition touches no goal, unit or cycle (no goal can
        // be bound to it yet): no subscription receives it.
        if (e.type == "metric.defined") continue;
        if (spec.streams.empty() ||
            std::find(spec.streams.begin(), spec.streams.end(), e.stream) !=
                spec.streams.end()) {
          expected.push_back(e.position);
        }
      }
      EXPECT_EQ(seen[i].positions, expected)
          << "subscriber " << spec.sub << " saw " << seen[i].positions.size()
          << " events, the log holds " << expected.size();
    }
  };

  // The rebuild, on the store read-only (nothing written; beside a running
  // server too): Apply of the events after the previous rebuild up to the
  // head, into the State that has only ever been built this way; then the
  // views it renders. The State as of a random position after the previous
  // rebuild (and after the seed) is kept for the time-travel views.
  auto catch_up = [&](uint64_t& store_head, uint64_t& snapshot,
                      std::vector<View>& views) {
    eventstore::Options options;
    options.path = Data();
    options.create_if_missing = false;
    options.read_only = true;
    auto opened = eventstore::EventStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    const eventstore::EventStore& store = **opened;
    store_head = store.Head();
    ASSERT_GE(store_head, rebuild.state.position);
    if (auto snap = store.LatestSnapshot(store_head)) {
      Result<State> decoded = DecodeState(snap->second);
      if (decoded.ok() && decoded->position == snap->first) {
        snapshot = snap->first;
      }
    }
    const uint64_t low = std::max(rebuild.state.position, seeded) + 1;
    const uint64_t as_of =
        low < store_head
            ? std::uniform_int_distribution<uint64_t>(low, store_head - 1)(rng)
            : 0;
    std::optional<State> past;
    Status read =
        store.ReadAll(rebuild.state.position, [&](const ::cairn::Event& e) {
          if (e.position > store_head) return false;
          Apply(rebuild.state, e);
          if (e.stream.compare(0, 5, "goal-") == 0) {
            rebuild.goal_streams[e.stream].push_back(e);
          }
          if (e.position == as_of) past = rebuild.state;
          return e.position < store_head;
        });
    ASSERT_TRUE(read.ok()) << read.error().message;
    ASSERT_EQ(rebuild.state.position, store_head);
    // What the server's start-up loads (newest usable snapshot + replay
    // of the tail) is the rebuild, whole.
    Result<State> loaded = LoadAt(store, store_head);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_TRUE(EncodeState(*loaded) == EncodeState(rebuild.state))
        << "snapshot at " << snapshot << " + replay differs from a rebuild "
        << "at " << store_head;
    views = LiveViews(rebuild);
    if (past) {
      std::vector<View> more = AsOfViews(*past, rebuild.state);
      views.insert(views.end(), more.begin(), more.end());
    }
  };

  // Snapshots are taken every 10,000 events and at a clean stop; a run
  // appends about that many, so two rounds end with a clean stop (SIGTERM:
  // the server writes a snapshot at its head): the first, and the one after
  // half the kills. Every restart after a kill then starts from a snapshot
  // (one with a few check-ins, later one with thousands) plus the tail
  // after it. The other kKills rounds end with a SIGKILL.
  for (int round = 0; round < kKills + 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const bool clean = round == 0 || round == kKills / 2 + 1;
    std::atomic<bool> stop{false};
    std::vector<std::vector<int64_t>> round_acked(kWriters);
    std::vector<int> unexpected(kWriters, 0);
    std::vector<std::string> unexpected_body(kWriters);
    std::vector<std::thread> writers;
    const uint16_t port = port_;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w, port] {
        HttpClient c("127.0.0.1", port);
        const std::string target =
            "/api/v1/goals/g" + std::to_string(w) + "/check-ins";
        // Bounded: at most 100000 requests, and each fails fast once the
        // server is gone.
        for (int i = 0; i < 100000 && !stop.load(); ++i) {
          int64_t v = next_value[w]++;
          auto r = c.Send(
              "POST", target,
              "{\"value\":" + std::to_string(v) + ",\"confidence\":5}", Auth());
          if (r.status >= 200 && r.status < 300) {
            round_acked[w].push_back(v);
          } else if (r.status == 0) {
            break;  // the server was killed
          } else {
            ++unexpected[w];
            unexpected_body[w] = std::to_string(r.status) + " " + r.body;
          }
        }
      });
    }
    // Subscribers resume where they stopped, reading until the kill.
    std::vector<std::thread> followers;
    for (size_t i = 0; i < Subs().size(); ++i) {
      followers.emplace_back(
          [&, i, port] { Follow(port, Subs()[i], seen[i], false); });
    }
    std::uniform_int_distribution<int> delay(100, 600);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    if (clean) {
      stop = true;
      for (auto& t : writers) t.join();
      // The running server's live model (kept up to date batch by batch by
      // the writer, never reloaded) equals the rebuild too.
      uint64_t running_head = 0, ignored = 0;
      std::vector<View> running_views;
      ASSERT_NO_FATAL_FAILURE(catch_up(running_head, ignored, running_views));
      HttpClient c("127.0.0.1", port_);
      // Acknowledged is durable; the model is published right after: wait
      // (briefly) until the live model is at the store's head.
      const std::string at_head =
          "\"position\":" + std::to_string(running_head) + "}";
      for (int i = 0; i < 500; ++i) {
        auto r = c.Send("GET", "/api/v1/units", {}, Auth());
        if (r.body.size() >= at_head.size() &&
            r.body.compare(r.body.size() - at_head.size(), at_head.size(),
                           at_head) == 0) {
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      const size_t equal = CompareViews(c, running_views);
      EXPECT_EQ(equal, running_views.size());
      running_total += equal;
      std::printf(
          "[kill] before the clean stop %d: head %llu, %zu of %zu views of "
          "the running server equal a rebuild\n",
          round == 0 ? 1 : 2, static_cast<unsigned long long>(running_head),
          equal, running_views.size());
      EXPECT_EQ(StopChild(pid_, std::chrono::seconds(30)), 0)
          << "the server did not stop cleanly; see "
          << (dir_.path() / "server.log");
    } else {
      KillServer();
      ++kills;
      stop = true;
      for (auto& t : writers) t.join();
    }
    for (auto& t : followers) t.join();
    for (int w = 0; w < kWriters; ++w) {
      EXPECT_EQ(unexpected[w], 0)
          << "writer " << w << ": " << unexpected_body[w];
      for (int64_t v : round_acked[w]) acked[w].insert(v);
      total_acked += round_acked[w].size();
    }

    // The stopped store verifies.
    pid_t v = Spawn({"verify", "--data", (dir_.path() / "data").string()},
                    (dir_.path() / "verify.log").string());
    ASSERT_GT(v, 0);
    ASSERT_EQ(WaitExit(v, std::chrono::seconds(30)), 0)
        << "cairn verify failed; see " << (dir_.path() / "verify.log");

    uint64_t store_head = 0, snapshot = 0;
    std::vector<View> views;
    ASSERT_NO_FATAL_FAILURE(catch_up(store_head, snapshot, views));

    // The restarted server (projections rebuilt from snapshot + log).
    ASSERT_NO_FATAL_FAILURE(StartServer());
    HttpClient c("127.0.0.1", port_);
    uint64_t head = 0;
    std::vector<LoggedEvent> all = Events(c, "", head);
    ASSERT_FALSE(all.empty());
    ASSERT_EQ(head, store_head);
    ASSERT_EQ(all.size(), head) << "the log has a gap";
    std::map<std::string, uint64_t> stream_version;
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_EQ(all[i].position, i + 1) << "positions are not gapless";
      uint64_t& sv = stream_version[all[i].stream];
      ASSERT_EQ(all[i].version, sv + 1)
          << "stream " << all[i].stream << " version gap at position "
          << all[i].position;
      sv = all[i].version;
    }

    for (int w = 0; w < kWriters; ++w) {
      const std::string stream = "goal-g" + std::to_string(w);
      std::set<int64_t> present;
      int64_t last_value = 0;
      for (const LoggedEvent& e : all) {
        if (e.stream != stream || e.type != "goal.checked_in") continue;
        ASSERT_TRUE(e.has_value);
        present.insert(static_cast<int64_t>(e.value));
        last_value = static_cast<int64_t>(e.value);
      }
      size_t lost = 0;
      int64_t first_lost = 0;
      for (int64_t a : acked[w]) {
        if (!present.count(a)) {
          if (lost == 0) first_lost = a;
          ++lost;
        }
      }
      total_lost += lost;
      EXPECT_EQ(lost, 0u) << "goal g" << w << " lost " << lost
                          << " acknowledged check-ins, first value "
                          << first_lost;
      // Sent values only grow, so the last check-in holds the largest value,
      // at least the last acknowledged one.
      if (!acked[w].empty()) {
        EXPECT_GE(last_value, *acked[w].rbegin()) << "goal g" << w;
      }
      // Next round's values continue above anything that may be in the log.
      next_value[w] = std::max(next_value[w], last_value + 1);

      // The projection agrees with the log.
      auto r = Call(c, "GET", "/api/v1/goals/g" + std::to_string(w));
      ASSERT_EQ(r.status, 200) << r.body;
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      ASSERT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
      double current = -1;
      uint64_t version = 0;
      ASSERT_EQ(doc["current"].get(current), simdjson::SUCCESS) << r.body;
      ASSERT_EQ(doc["version"].get(version), simdjson::SUCCESS) << r.body;
      EXPECT_EQ(static_cast<int64_t>(current), last_value) << "goal g" << w;
      EXPECT_EQ(version, stream_version[stream]) << "goal g" << w;
    }
    check_subscribers(all, false);

    // The projections equal the rebuild, before the writers resume.
    const size_t equal = CompareViews(c, views);
    EXPECT_EQ(equal, views.size());
    ++restarts;
    views_total += equal;
    min_views = std::min(min_views, equal);
    max_views = std::max(max_views, equal);
    if (snapshot > 0) ++with_snapshot;
    max_tail = std::max(max_tail, store_head - snapshot);
    std::printf(
        "[kill] restart %d after a %s: head %llu, snapshot at %llu (tail %llu "
        "events replayed), %zu of %zu views equal a rebuild\n",
        round + 1, clean ? "clean stop" : "SIGKILL",
        static_cast<unsigned long long>(store_head),
        static_cast<unsigned long long>(snapshot),
        static_cast<unsigned long long>(store_head - snapshot), equal,
        views.size());
    if (HasFailure()) break;
  }

  // After the last restart every subscriber catches up to the head: it must
  // then hold every event of its subscription, each once, in order.
  size_t sub_events = 0;
  int connections = 0, slow_closes = 0;
  if (!HasFailure()) {
    for (size_t i = 0; i < Subs().size(); ++i) {
      Follow(port_, Subs()[i], seen[i], true);
    }
    HttpClient c("127.0.0.1", port_);
    uint64_t head = 0;
    std::vector<LoggedEvent> all = Events(c, "", head);
    check_subscribers(all, true);
    for (const SubSeen& s : seen) {
      sub_events += s.positions.size();
      connections += s.connections;
      slow_closes += s.slow_closes;
      EXPECT_GT(s.connections, kKills) << "a subscriber never resumed";
    }
  }

  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0)
          .count();
  EXPECT_EQ(kills, kKills);
  EXPECT_GT(total_acked, 0u);
  std::printf(
      "[kill] seed %u: %d kills survived, %zu acknowledged check-ins checked, "
      "%zu lost; %zu subscriber events checked over %d connections (%d slow "
      "consumer closes); %zu restarts (%zu from a snapshot, longest tail "
      "%llu events), %zu views equal a rebuild (%zu..%zu per restart, and "
      "%zu of the running server before the clean stops); %lld ms\n",
      seed, kills, total_acked, total_lost, sub_events, connections,
      slow_closes, restarts, with_snapshot,
      static_cast<unsigned long long>(max_tail), views_total, min_views,
      max_views, running_total, static_cast<long long>(ms));
  EXPECT_EQ(with_snapshot, restarts) << "a restart had no snapshot";
  EXPECT_LT(ms, 60000);
}

}  // namespace
}  // namespace cairn::gateway

namespace cairn::gateway {
namespace {

// `cairn serve --plain-sends`: live updates one send call per message, as
// /metrics tells.
TEST(ServeFlagsTest, PlainSendsTurnsOffBatchedLiveSends) {
  TempDir dir;
  ServerChild s =
      StartServer((dir.path() / "data").string(),
                  {"--admin-token", kAdmin, "--quiet", "--plain-sends"},
                  (dir.path() / "server.log").string());
  ASSERT_GT(s.pid, 0) << "the server did not start; see "
                      << (dir.path() / "server.log");
  HttpClient c("127.0.0.1", s.port);
  auto m = c.Send("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("\ncairn_live_batched_sends 0\n"), std::string::npos)
      << m.body;
  EXPECT_EQ(StopChild(s.pid, std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace cairn::gateway
