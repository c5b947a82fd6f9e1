// Replay equals live: random valid and invalid commands are decided and
// applied live; the State rebuilt from the produced events alone (through
// their stored encoding) must equal the live State.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "cairn/core/apply.hpp"
#include "cairn/core/decide.hpp"
#include "cairn/core/event.hpp"
#include "domain_harness.hpp"

namespace cairn {
namespace {

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int Int(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  double Real(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  std::string Pick(const char* prefix, int n) {
    return std::string(prefix) + std::to_string(Int(0, n - 1));
  }
  // Mostly an existing key of `map`, sometimes a name from the pool.
  template <typename Map>
  std::string Existing(const Map& map, const char* prefix, int n) {
    if (map.empty() || Chance(0.15)) return Pick(prefix, n);
    auto it = map.begin();
    std::advance(it, Int(0, static_cast<int>(map.size()) - 1));
    return it->first;
  }
  // Mostly valid numbers, sometimes not.
  double Number() {
    if (Chance(0.02)) return NAN;
    if (Chance(0.02)) return INFINITY;
    return std::round(Real(-50, 500) * 4) / 4;
  }

  CommandContext Context(Millis now) {
    CommandContext c;
    c.actor = Pick("user", 4);
    c.now = now;
    int r = Int(0, 19);
    c.role = r == 0 ? Role::kViewer : r < 8 ? Role::kEditor : Role::kAdmin;
    if (Chance(0.15)) c.scope_unit = Pick("u", 12);
    if (Chance(0.05)) c.if_match = static_cast<uint64_t>(Int(0, 4));
    return c;
  }

  Command Next(const State& s, Millis now) {
    const Day today = DayOf(now);
    switch (Int(0, 15)) {
      case 0: {
        CreateUnit c;
        c.id = Chance(0.9) ? Pick("u", 12) : (Chance(0.5) ? "" : "Bad");
        c.name = Chance(0.95) ? "Unit " + c.id : "";
        c.kind = static_cast<UnitKind>(Int(0, 4));
        c.parent = s.units.empty() ? "" : (Chance(0.9) ? Pick("u", 12) : "");
        return c;
      }
      case 1: {
        EditUnit c;
        c.id = Pick("u", 12);
        if (Chance(0.5)) c.name = Chance(0.9) ? "Renamed " + c.id : "";
        if (Chance(0.6)) c.parent = Pick("u", 12);
        return c;
      }
      case 2: {
        CreateCycle c;
        c.id = Chance(0.95) ? Pick("c", 40) : "";
        c.name = "Cycle";
        c.kind = static_cast<CycleKind>(Int(0, 6));
        Day start = today - Int(0, 60);
        c.start = start;
        c.end = start + Int(-2, 40);
        if (Chance(0.4)) c.parent = Pick("c", 8);
        return c;
      }
      case 3:
        if (Chance(0.03)) return CloseCycle{Existing(s.cycles, "c", 8)};
        [[fallthrough]];
      case 4:
      case 5: {
        CreateGoal c;
        c.id = Chance(0.95) ? Pick("g", 2000) : "";
        c.kind = static_cast<GoalKind>(Int(0, 7));
        c.title = Chance(0.97) ? "Goal title " + c.id : "";
        c.unit = Existing(s.units, "u", 12);
        c.cycle = Existing(s.cycles, "c", 8);
        if (Chance(0.6)) c.owner = Pick("p", 5);
        if (Chance(0.5)) c.parent = Existing(s.goals, "g", 60);
        if (Chance(0.3)) c.weight = Chance(0.9) ? Real(0.5, 3) : 0;
        c.committed = Chance(0.3);
        c.perspective = static_cast<Perspective>(Int(0, 4));
        if (Chance(0.3)) c.due = today + Int(-10, 100);
        if (Chance(0.8)) {
          MeasureInput m;
          m.direction = static_cast<Direction>(Int(0, 4));
          m.start = Number();
          if (Chance(0.95)) m.target = Number();
          if (Chance(0.2)) m.stretch = Number();
          if (Chance(0.2)) m.metric = Pick("m", 4);
          if (Chance(0.3)) m.unit = "USD";
          c.measure = m;
        }
        if (Chance(0.2)) c.status = static_cast<GoalStatus>(Int(0, 6));
        return c;
      }
      case 6: {
        EditGoal c;
        c.id = Existing(s.goals, "g", 60);
        if (Chance(0.3)) c.title = Chance(0.9) ? "New title " + c.id : "";
        if (Chance(0.2)) c.description = Chance(0.5) ? "Why it matters" : "";
        if (Chance(0.2)) c.owner = Chance(0.8) ? Pick("p", 5) : "";
        if (Chance(0.2))
          c.parent = Chance(0.8) ? Existing(s.goals, "g", 60) : "";
        if (Chance(0.2)) c.weight = Real(-1, 3);
        if (Chance(0.2)) c.committed = Chance(0.5);
        if (Chance(0.2)) c.perspective = static_cast<Perspective>(Int(0, 4));
        if (Chance(0.2)) {
          c.due = Chance(0.7) ? std::optional<Day>(today + Int(0, 30))
                              : std::optional<Day>();
        }
        if (Chance(0.05)) {
          c.clear_measure = true;
        } else if (Chance(0.5)) {
          MeasurePatch m;
          if (Chance(0.5)) m.target = Number();
          if (Chance(0.3)) m.start = Number();
          if (Chance(0.2)) m.stretch = Number();
          if (Chance(0.1)) m.clear_stretch = true;
          if (Chance(0.2)) m.direction = static_cast<Direction>(Int(0, 4));
          if (Chance(0.1)) m.unit = Chance(0.5) ? "EUR" : "";
          if (Chance(0.1)) m.metric = Chance(0.5) ? Pick("m", 4) : "";
          if (Chance(0.1)) m.aggregate = static_cast<Aggregate>(Int(0, 4));
          c.measure = m;
        }
        if (Chance(0.5)) c.reason = "budget cut";
        return c;
      }
      case 7: {
        ChangeGoalStatus c;
        c.id = Existing(s.goals, "g", 60);
        if (Chance(0.95)) c.status = static_cast<GoalStatus>(Int(0, 6));
        if (Chance(0.3)) c.reason = "because";
        return c;
      }
      case 8:
      case 9:
      case 10: {
        AddCheckIn c;
        c.goal = Existing(s.goals, "g", 60);
        if (Chance(0.9)) c.value = Number();
        if (Chance(0.6)) c.confidence = Int(-1, 11);
        if (Chance(0.3)) c.note = "on it";
        if (Chance(0.7)) c.at = now - Int(-100, 20 * 86400) * int64_t{1000};
        return c;
      }
      case 11: {
        Decompose c;
        c.goal = Existing(s.goals, "g", 60);
        int by = Int(0, 3);
        c.by = static_cast<SplitBy>(by);
        if (c.by == SplitBy::kTime) {
          c.into = static_cast<SplitInto>(Int(0, 2));
          c.working_days = Chance(0.3);
          if (Chance(0.2)) {
            c.weights = std::vector<double>(Int(1, 6), 1.0);
          }
        }
        if (c.by == SplitBy::kOwners) {
          int n = Int(0, 4);
          for (int i = 0; i < n; ++i) {
            c.parts.push_back({Pick("u", 12), Pick("p", 5), Real(-0.5, 5)});
          }
        }
        if (c.by == SplitBy::kFunnel) {
          int n = Int(1, 4);
          for (int i = 0; i < n; ++i) {
            FunnelStage st{"stage" + std::to_string(i), std::nullopt};
            if (i > 0 || Chance(0.1)) st.rate = Real(-0.1, 1.1);
            c.stages.push_back(st);
          }
        }
        c.integer = Chance(0.5);
        return c;
      }
      case 12: {
        NoteRetro c;
        c.unit = Existing(s.units, "u", 12);
        c.cycle = Existing(s.cycles, "c", 8);
        if (Chance(0.3)) c.goal = Existing(s.goals, "g", 60);
        if (Chance(0.95)) c.kind = static_cast<RetroNoteKind>(Int(0, 3));
        c.text = Chance(0.95) ? "We learned something" : "";
        return c;
      }
      case 13: {
        if (Chance(0.3)) {
          DefineMetric c;
          c.id = Pick("m", 4);
          c.name = "Metric";
          c.aggregate = static_cast<Aggregate>(Int(0, 4));
          return c;
        }
        RecordMetric c;
        c.id = Pick("m", 4);
        int n = Int(0, 20);
        for (int i = 0; i < n; ++i) {
          c.points.push_back({now - Int(0, 30) * kMillisPerDay,
                              Chance(0.01) ? NAN : Number()});
        }
        if (Chance(0.3)) c.source = "crm";
        return c;
      }
      case 14: {
        CreateToken c;
        c.name = Pick("t", 6);
        if (Chance(0.95)) c.role = static_cast<Role>(Int(0, 2));
        if (Chance(0.3)) c.unit = Existing(s.units, "u", 12);
        c.secret_hash = Chance(0.95) ? std::string(64, 'c') : "xyz";
        return c;
      }
      default:
        return RevokeToken{Pick("t", 6)};
    }
  }

 private:
  std::mt19937_64 rng_;
};

void RunSeed(uint64_t seed, int commands) {
  Generator gen(seed);
  testing::Harness h;
  Millis now = *ParseTime("2027-03-10T08:00:00.000Z");
  int ok = 0, refused = 0, empty = 0;
  for (int i = 0; i < commands; ++i) {
    now += gen.Int(0, 3) * 60'000;
    Command cmd = gen.Next(h.state(), now);
    CommandContext ctx = gen.Context(now);
    // Bootstrap: the first commands build a tree to work in.
    if (i < 12) {
      CreateUnit u;
      u.id = "u" + std::to_string(i);
      u.name = "Unit";
      u.kind = UnitKind::kTeam;
      u.parent = i == 0 ? "" : "u" + std::to_string((i - 1) / 2);
      cmd = u;
      ctx = testing::Admin(now);
    } else if (i < 16) {
      CreateCycle c;
      c.id = "c" + std::to_string(i - 12);
      c.name = "Cycle";
      c.kind = CycleKind::kMonth;
      c.start = DayOf(now) - 30;
      c.end = DayOf(now) + 30;
      cmd = c;
      ctx = testing::Admin(now);
    }
    auto r = h.Run(cmd, ctx);
    if (!r.ok()) {
      ASSERT_NE(r.error().code, ErrorCode::kInternal)
          << "seed " << seed << " #" << i << ": " << r.error().message;
      ++refused;
    } else if (r->empty()) {
      ++empty;
    } else {
      ++ok;
    }
  }
  size_t check_ins = 0, split = 0;
  for (const auto& [id, g] : h.state().goals) {
    check_ins += g.check_ins.size();
    split += g.split != SplitBy::kNone;
  }
  std::printf(
      "seed %llu: %d ok, %d refused, %d unchanged; %zu events, %zu goals, %zu "
      "check-ins, %zu split\n",
      (unsigned long long)seed, ok, refused, empty, h.log().size(),
      h.state().goals.size(), check_ins, split);
  // Both kinds of command must have been exercised.
  EXPECT_GT(ok, commands / 10) << "seed " << seed;
  EXPECT_GT(refused, commands / 10) << "seed " << seed;

  // Rebuild from the stored encoding of the events alone, decoded as a
  // scan of the store does (into one reused Event), and check each decode
  // against the general parser.
  State rebuilt;
  Event reused;
  for (const Event& e : h.log()) {
    const std::string stored = EncodeEnvelope(e);
    ASSERT_TRUE(DecodeEnvelopeInto(stored, &reused).ok());
    auto general = DecodeEnvelope(stored);
    ASSERT_TRUE(general.ok());
    ASSERT_EQ(reused, *general) << stored;
    Apply(rebuilt, reused);
  }
  ASSERT_EQ(rebuilt, h.state()) << "seed " << seed;
  EXPECT_EQ(rebuilt.position, h.log().size());
  EXPECT_FALSE(h.state().goals.empty());
}

TEST(ReplayEqualsLive, TenThousandRandomCommandsOverSeveralSeeds) {
  for (uint64_t seed : {1u, 2u, 3u, 42u, 20270201u}) {
    SCOPED_TRACE(seed);
    RunSeed(seed, 10'000);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace cairn
