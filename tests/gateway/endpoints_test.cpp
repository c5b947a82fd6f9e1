// Integration tests: every endpoint of API.md not covered by server_test.cpp,
// called over real sockets against the real server with a temp store. Every
// refused request also asserts that the head did not move.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "server_fixture.hpp"

namespace cairn::gateway {
namespace {

class EndpointsTest : public ServerTest {
 protected:
  // A numeric member as a double (-1e300 when absent or not a number).
  static double Num(const std::string& json, const std::string& ptr) {
    std::string s = Member(json, ptr);
    try {
      return std::stod(s);
    } catch (...) {
      return -1e300;
    }
  }

  // Asserts `r` is the error `code` with `status` and that head is `head`.
  void ExpectRefused(const ClientResponse& r, unsigned status,
                     const std::string& code, uint64_t head) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(Member(r.body, "/error/code"), code) << r.body;
    EXPECT_EQ(Head(), head);
  }

  void CreateGoal(const std::string& body) {
    auto r = Call("POST", "/api/v1/goals", body);
    ASSERT_EQ(r.status, 201) << r.body;
  }
};

TEST_F(EndpointsTest, DecomposeByFunnelDividesByTheNextStagesRate) {
  Seed();
  CreateGoal(
      R"({"id":"signings","kind":"key_result","title":"Five signings a quarter","unit":"sales","cycle":"q1","measure":{"start":0,"target":5}})");
  auto r = Call(
      "POST", "/api/v1/goals/signings/decompose",
      R"({"by":"funnel","stages":[{"name":"calls"},{"name":"meetings","rate":0.2},{"name":"signings","rate":0.5}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Num(r.body, "/goals/0/measure/target"), 50);
  EXPECT_EQ(Num(r.body, "/goals/1/measure/target"), 10);
  EXPECT_EQ(Num(r.body, "/goals/2/measure/target"), 5);
  EXPECT_EQ(Member(r.body, "/goals/0/kind"), "key_result");
  EXPECT_EQ(Member(r.body, "/goals/3"), "");
  EXPECT_EQ(Member(r.body, "/position"), std::to_string(Head()));
  // The parent takes the value of the last stage.
  std::string last = Member(r.body, "/goals/2/id");
  ASSERT_EQ(
      Call("POST", "/api/v1/goals/" + last + "/check-ins", R"({"value":2})")
          .status,
      201);
  EXPECT_EQ(Num(Call("GET", "/api/v1/goals/signings").body, "/current"), 2);
}

TEST_F(EndpointsTest, DecomposeByOwnersSplitsExactlyOnce) {
  Seed();
  CreateGoal(
      R"({"id":"rev","kind":"key_result","title":"Seven million in revenue","unit":"co","cycle":"q1","measure":{"start":0,"target":7000000}})");
  auto r = Call(
      "POST", "/api/v1/goals/rev/decompose",
      R"({"by":"owners","integer":true,"parts":[{"unit":"sales","owner":"ann","weight":5},{"unit":"eng","owner":"bob","weight":3},{"unit":"co","owner":"cat","weight":2}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Num(r.body, "/goals/0/measure/target"), 3500000);
  EXPECT_EQ(Num(r.body, "/goals/1/measure/target"), 2100000);
  EXPECT_EQ(Num(r.body, "/goals/2/measure/target"), 1400000);
  EXPECT_EQ(Num(r.body, "/goals/0/measure/start"), 0);
  EXPECT_EQ(Member(r.body, "/goals/0/unit"), "sales");
  EXPECT_EQ(Member(r.body, "/goals/1/owner"), "bob");
  const uint64_t head = Head();
  ExpectRefused(
      Call("POST", "/api/v1/goals/rev/decompose",
           R"({"by":"owners","parts":[{"unit":"sales","weight":1}]})"),
      409, "already_exists", head);
  ExpectRefused(Call("POST", "/api/v1/goals/rev/check-ins", R"({"value":100})"),
                422, "validation_failed", head);
  // The parent's value is the sum of its parts.
  std::string part = Member(r.body, "/goals/1/id");
  ASSERT_EQ(Call("POST", "/api/v1/goals/" + part + "/check-ins",
                 R"({"value":700000})")
                .status,
            201);
  EXPECT_EQ(Num(Call("GET", "/api/v1/goals/rev").body, "/current"), 700000);
  // Retargeted with rescale_parts: the parts follow, by their shares.
  const uint64_t before = Head();
  ExpectRefused(Call("PATCH", "/api/v1/goals/rev",
                     R"({"measure":{"target":8000000},"rescale_parts":1})"),
                422, "validation_failed", before);
  auto up = Call("PATCH", "/api/v1/goals/rev",
                 R"({"measure":{"target":8000000},"rescale_parts":true,)"
                 R"("reason":"new region"})");
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(Head(), before + 4);
  EXPECT_EQ(Num(Call("GET", "/api/v1/goals/" + part).body, "/measure/target"),
            2400000);
  auto h = Call("GET", "/api/v1/goals/" + part + "/history");
  EXPECT_NE(h.body.find("scaled with rev: new region"), std::string::npos)
      << h.body;
}

TEST_F(EndpointsTest, DecomposeByTimeCreatesMonthlyCycles) {
  Seed();
  CreateGoal(
      R"({"id":"calls","kind":"key_result","title":"Ninety calls this quarter","unit":"sales","cycle":"q1","measure":{"start":0,"target":90}})");
  const uint64_t head = Head();
  ExpectRefused(Call("POST", "/api/v1/goals/calls/decompose",
                     R"({"by":"time","into":"fortnight"})"),
                422, "validation_failed", head);
  auto r = Call("POST", "/api/v1/goals/calls/decompose",
                R"({"by":"time","into":"month","integer":true})");
  ASSERT_EQ(r.status, 201) << r.body;
  // Shares by days: 31 + 28 + 31 = 90.
  EXPECT_EQ(Num(r.body, "/goals/0/measure/target"), 31);
  EXPECT_EQ(Num(r.body, "/goals/1/measure/target"), 28);
  EXPECT_EQ(Num(r.body, "/goals/2/measure/target"), 31);
  EXPECT_EQ(Member(r.body, "/goals/1/cycle"), "q1-m02");
  auto c = Call("GET", "/api/v1/cycles/q1-m02");
  EXPECT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(Member(c.body, "/start"), "2026-02-01");
  EXPECT_EQ(Member(c.body, "/end"), "2026-02-28");
}

TEST_F(EndpointsTest, MetricsRecordReadAndBindAGoal) {
  Seed();
  auto d = Call("POST", "/api/v1/metrics",
                R"({"id":"mrr","name":"Monthly revenue","aggregate":"last"})");
  ASSERT_EQ(d.status, 201) << d.body;
  auto v = Call(
      "POST", "/api/v1/metrics/mrr/values",
      R"({"points":[{"ts":"2026-01-10T00:00:00.000Z","value":10},{"ts":"2026-02-10T00:00:00.000Z","value":30},{"ts":"2026-03-10T00:00:00.000Z","value":42}],"source":"crm"})");
  ASSERT_GE(v.status, 200u) << v.body;
  ASSERT_LT(v.status, 300u) << v.body;
  auto e = Call("GET", "/api/v1/events?stream=metric-mrr&type=metric.recorded");
  EXPECT_EQ(Member(e.body, "/events/0/type"), "metric.recorded");
  EXPECT_EQ(Member(e.body, "/events/1"), "");  // one event for three points
  const uint64_t head = Head();
  ExpectRefused(Call("POST", "/api/v1/metrics/mrr/values",
                     R"({"points":[{"ts":"2026-01-11T00:00:00.000Z"}]})"),
                422, "validation_failed", head);
  ExpectRefused(
      Call("POST", "/api/v1/metrics/nope/values",
           R"({"points":[{"ts":"2026-01-11T00:00:00.000Z","value":1}]})"),
      404, "not_found", head);
  ExpectRefused(Call("POST", "/api/v1/metrics", R"({"id":"mrr","name":"x"})"),
                409, "already_exists", head);
  auto range = Call("GET",
                    "/api/v1/metrics/mrr?from=2026-02-01T00:00:00.000Z&to="
                    "2026-02-28T00:00:00.000Z");
  ASSERT_EQ(range.status, 200) << range.body;
  EXPECT_EQ(Member(range.body, "/name"), "Monthly revenue");
  EXPECT_EQ(Num(range.body, "/points/0/value"), 30);
  EXPECT_EQ(Member(range.body, "/points/1"), "");
  auto all = Call("GET", "/api/v1/metrics/mrr");
  EXPECT_EQ(Num(all.body, "/points/2/value"), 42);
  // A goal bound to the metric takes its aggregate over the cycle.
  CreateGoal(
      R"({"id":"kr-mrr","kind":"key_result","title":"Grow monthly revenue","unit":"sales","cycle":"q1","measure":{"start":0,"target":100,"metric":"mrr","aggregate":"last"}})");
  auto g = Call("GET", "/api/v1/goals/kr-mrr?now=2026-03-15T00:00:00.000Z");
  EXPECT_EQ(Num(g.body, "/current"), 42) << g.body;
  EXPECT_EQ(Num(g.body, "/progress"), 0.42);
  CreateGoal(
      R"({"id":"kr-sum","kind":"key_result","title":"Total revenue booked","unit":"sales","cycle":"q1","measure":{"start":0,"target":100,"metric":"mrr","aggregate":"sum"}})");
  EXPECT_EQ(Num(Call("GET", "/api/v1/goals/kr-sum").body, "/current"), 82);

  // The list (an addition): each metric without its points, its latest
  // point and the goals bound to it that the token may see.
  ASSERT_EQ(
      Call("POST", "/api/v1/metrics", R"({"id":"nps","name":"NPS"})").status,
      201);
  auto list = Call("GET", "/api/v1/metrics");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Member(list.body, "/metrics/0/id"), "mrr");
  EXPECT_EQ(Num(list.body, "/metrics/0/point_count"), 3);
  EXPECT_EQ(Member(list.body, "/metrics/0/first_ts"),
            "2026-01-10T00:00:00.000Z");
  EXPECT_EQ(Member(list.body, "/metrics/0/last/ts"),
            "2026-03-10T00:00:00.000Z");
  EXPECT_EQ(Num(list.body, "/metrics/0/last/value"), 42);
  EXPECT_EQ(Member(list.body, "/metrics/0/goals/0"), "kr-mrr");
  EXPECT_EQ(Member(list.body, "/metrics/0/goals/1"), "kr-sum");
  EXPECT_EQ(Member(list.body, "/metrics/1/id"), "nps");
  EXPECT_EQ(Member(list.body, "/metrics/1/last"), "null");
  EXPECT_EQ(Member(list.body, "/metrics/1/goals/0"), "");
  EXPECT_EQ(Member(list.body, "/position"), std::to_string(Head()));
  // As of before the points, and for a token that cannot see sales.
  auto before =
      Call("GET", "/api/v1/metrics?as_of=" + std::to_string(head - 1));
  EXPECT_EQ(Num(before.body, "/metrics/0/point_count"), 0) << before.body;
  auto t = Call("POST", "/api/v1/tokens",
                R"({"name":"eng-view","role":"viewer","unit":"eng"})");
  ASSERT_EQ(t.status, 201) << t.body;
  auto scoped = Call("GET", "/api/v1/metrics", {}, Member(t.body, "/token"));
  ASSERT_EQ(scoped.status, 200) << scoped.body;
  EXPECT_EQ(Member(scoped.body, "/metrics/0/point_count"), "3");
  EXPECT_EQ(Member(scoped.body, "/metrics/0/goals/0"), "");
}

TEST_F(EndpointsTest, PatchWithReasonShowsInHistoryRetroAndAsOf) {
  Seed();
  const uint64_t before = Head();
  auto p = Call("PATCH", "/api/v1/goals/kr-1",
                R"({"measure":{"target":20},"reason":"bigger market"})");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(Num(p.body, "/measure/target"), 20);
  // History: the edit with from/to and the reason.
  auto h = Call("GET", "/api/v1/goals/kr-1/history");
  ASSERT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(Member(h.body, "/goal"), "kr-1");
  EXPECT_EQ(Member(h.body, "/events/0/type"), "goal.created");
  EXPECT_EQ(Member(h.body, "/events/1/type"), "goal.edited");
  EXPECT_EQ(Num(h.body, "/events/1/changes/measure.target/from"), 10);
  EXPECT_EQ(Num(h.body, "/events/1/changes/measure.target/to"), 20);
  EXPECT_NE(h.body.find("bigger market"), std::string::npos);
  EXPECT_EQ(Member(h.body, "/events/1/position"), std::to_string(Head()));
  // A board as of before the retarget shows the old target.
  auto old = Call(
      "GET", "/api/v1/boards/sales?cycle=q1&as_of=" + std::to_string(before));
  ASSERT_EQ(old.status, 200) << old.body;
  EXPECT_EQ(Num(old.body, "/goals/0/measure/target"), 10);
  EXPECT_EQ(Member(old.body, "/position"), std::to_string(before));
  auto now = Call("GET", "/api/v1/boards/sales?cycle=q1");
  EXPECT_EQ(Num(now.body, "/goals/0/measure/target"), 20);
  // The retro lists the retarget (made after the cycle started).
  auto retro = Call("GET", "/api/v1/retro?unit=sales&cycle=q1");
  ASSERT_EQ(retro.status, 200) << retro.body;
  EXPECT_EQ(Member(retro.body, "/retargeted/0/goal"), "kr-1");
  EXPECT_EQ(Member(retro.body, "/retargeted/0/field"), "measure.target");
  EXPECT_EQ(Num(retro.body, "/retargeted/0/from"), 10);
  EXPECT_EQ(Num(retro.body, "/retargeted/0/to"), 20);
  EXPECT_EQ(Member(retro.body, "/retargeted/0/reason"), "bigger market");
  // A PATCH that changes nothing appends nothing.
  const uint64_t head = Head();
  EXPECT_EQ(Call("PATCH", "/api/v1/goals/kr-1", R"({"measure":{"target":20}})")
                .status,
            200);
  EXPECT_EQ(Head(), head);
}

TEST_F(EndpointsTest, RetroNotesAndCheckInCounts) {
  Seed();
  ASSERT_EQ(
      Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":10})").status,
      201);
  auto n = Call(
      "POST", "/api/v1/retro/notes",
      R"({"unit":"sales","cycle":"q1","goal":"kr-1","kind":"lesson","text":"Referrals close fastest"})");
  ASSERT_EQ(n.status, 201) << n.body;
  const uint64_t head = Head();
  ExpectRefused(
      Call("POST", "/api/v1/retro/notes",
           R"({"unit":"sales","cycle":"q1","kind":"rant","text":"x"})"),
      422, "validation_failed", head);
  // An unknown unit in the body is an invalid field (as for goals).
  ExpectRefused(
      Call("POST", "/api/v1/retro/notes",
           R"({"unit":"nope","cycle":"q1","kind":"lesson","text":"x"})"),
      422, "validation_failed", head);
  auto r = Call("GET", "/api/v1/retro?unit=sales&cycle=q1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Member(r.body, "/notes/0/kind"), "lesson");
  EXPECT_EQ(Member(r.body, "/notes/0/text"), "Referrals close fastest");
  EXPECT_EQ(Member(r.body, "/notes/0/goal"), "kr-1");
  EXPECT_EQ(Member(r.body, "/check_ins/count"), "1");
  EXPECT_EQ(Member(r.body, "/check_ins/by_owner/ann"), "1");
  // 10 of 10: achieved at grade 1 (not past the target: not exceeded).
  EXPECT_EQ(Member(r.body, "/achieved/0/id"), "kr-1");
  EXPECT_EQ(Member(r.body, "/exceeded/0"), "");
  EXPECT_EQ(Member(r.body, "/position"), std::to_string(Head()));
}

TEST_F(EndpointsTest, ScorecardGroupsByPerspective) {
  Seed();
  CreateGoal(
      R"({"id":"fin","kind":"bsc_objective","title":"Grow the margin","unit":"sales","cycle":"q1","perspective":"financial","measure":{"start":0,"target":10}})");
  CreateGoal(
      R"({"id":"cust","kind":"bsc_objective","title":"Happier customers","unit":"sales","cycle":"q1","perspective":"customer","measure":{"start":0,"target":10}})");
  ASSERT_EQ(
      Call("POST", "/api/v1/goals/fin/check-ins", R"({"value":8})").status,
      201);
  ASSERT_EQ(
      Call("POST", "/api/v1/goals/cust/check-ins", R"({"value":4})").status,
      201);
  auto s = Call("GET", "/api/v1/scorecards/sales?cycle=q1");
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(Member(s.body, "/perspectives/financial/goals/0/id"), "fin");
  EXPECT_EQ(Num(s.body, "/perspectives/financial/score"), 0.8);
  EXPECT_EQ(Member(s.body, "/perspectives/customer/goals/0/id"), "cust");
  EXPECT_EQ(Num(s.body, "/perspectives/customer/score"), 0.4);
  EXPECT_EQ(Num(s.body, "/score"), 0.6);  // the two non-empty perspectives
  EXPECT_EQ(Member(s.body, "/position"), std::to_string(Head()));
  EXPECT_EQ(Call("GET", "/api/v1/scorecards/nope?cycle=q1").status, 404);
}

TEST_F(EndpointsTest, DiffListsAddedAndChangedGoals) {
  Seed();
  const uint64_t from = Head();
  ASSERT_EQ(Call("PATCH", "/api/v1/goals/kr-1",
                 R"({"title":"Sign twenty new customers"})")
                .status,
            200);
  CreateGoal(
      R"({"id":"kr-2","kind":"key_result","title":"Renew every contract","unit":"sales","cycle":"q1","measure":{"start":0,"target":5}})");
  auto d = Call(
      "GET", "/api/v1/diff?unit=sales&cycle=q1&from=" + std::to_string(from) +
                 "&to=" + std::to_string(Head()));
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(Member(d.body, "/added/0/id"), "kr-2");
  EXPECT_EQ(Member(d.body, "/added/1"), "");
  EXPECT_EQ(Member(d.body, "/removed/0"), "");
  EXPECT_EQ(Member(d.body, "/changed/0/goal"), "kr-1");
  EXPECT_EQ(Member(d.body, "/changed/0/changes/title/from"),
            "Sign ten new customers");
  EXPECT_EQ(Member(d.body, "/changed/0/changes/title/to"),
            "Sign twenty new customers");
  auto bad = Call("GET", "/api/v1/diff?unit=sales&cycle=q1&from=0&to=99999");
  EXPECT_EQ(bad.status, 422) << bad.body;
}

TEST_F(EndpointsTest, ClosedCycleRefusesCheckIns) {
  Seed();
  ASSERT_EQ(
      Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":5})").status,
      201);
  auto c = Call("POST", "/api/v1/cycles/q1/close", "");
  ASSERT_GE(c.status, 200u) << c.body;
  ASSERT_LT(c.status, 300u) << c.body;
  auto e = Call("GET", "/api/v1/events?stream=cycle-q1&type=cycle.closed");
  EXPECT_EQ(Member(e.body, "/events/0/type"), "cycle.closed");
  const uint64_t head = Head();
  ExpectRefused(Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":9})"),
                409, "cycle_closed", head);
  // The frozen grade stays.
  EXPECT_EQ(Num(Call("GET", "/api/v1/goals/kr-1").body, "/grade"), 0.5);
}

TEST_F(EndpointsTest, EventsFilterPageAndStreamAsNdjson) {
  Seed();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(Call("POST", "/api/v1/goals/kr-1/check-ins",
                   R"({"value":)" + std::to_string(i) + "}")
                  .status,
              201);
  }
  const std::string head = std::to_string(Head());
  auto f = Call("GET", "/api/v1/events?stream=goal-kr-1&type=goal.checked_in");
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(Member(f.body, "/events/0/data/value"), "1");
  EXPECT_EQ(Member(f.body, "/events/2/data/value"), "3");
  EXPECT_EQ(Member(f.body, "/events/3"), "");
  EXPECT_EQ(Member(f.body, "/events/0/stream"), "goal-kr-1");
  EXPECT_EQ(Member(f.body, "/events/0/version"), "2");
  EXPECT_EQ(Member(f.body, "/events/0/hash").size(), 64u);
  EXPECT_EQ(Member(f.body, "/head"), head);
  // Paging: limit 2 from 0, then on from `next`.
  auto p1 = Call("GET", "/api/v1/events?from=0&limit=2");
  EXPECT_EQ(Member(p1.body, "/events/0/position"), "1");
  EXPECT_EQ(Member(p1.body, "/events/2"), "");
  EXPECT_EQ(Member(p1.body, "/next"), "2");
  auto p2 = Call("GET", "/api/v1/events?from=2&limit=2");
  EXPECT_EQ(Member(p2.body, "/events/0/position"), "3");
  auto nd = Call("GET", "/api/v1/events?stream=goal-kr-1", "", kAdmin,
                 {{"Accept", "application/x-ndjson"}});
  ASSERT_EQ(nd.status, 200);
  EXPECT_EQ(std::count(nd.body.begin(), nd.body.end(), '\n'), 4);
  EXPECT_EQ(Member(nd.body.substr(0, nd.body.find('\n')), "/type"),
            "goal.created");
}

TEST_F(EndpointsTest, UnitChildrenAndCyclicMoveRefused) {
  Seed();
  auto u = Call("GET", "/api/v1/units/co");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(Member(u.body, "/kind"), "company");
  std::string children = Member(u.body, "/children");
  EXPECT_NE(children.find("\"sales\""), std::string::npos) << children;
  EXPECT_NE(children.find("\"eng\""), std::string::npos) << children;
  EXPECT_EQ(Member(u.body, "/children/2"), "");
  EXPECT_EQ(Call("GET", "/api/v1/units/nope").status, 404);
  const uint64_t head = Head();
  ExpectRefused(Call("PATCH", "/api/v1/units/co", R"({"parent":"sales"})"), 422,
                "validation_failed", head);
  ExpectRefused(Call("PATCH", "/api/v1/units/sales", R"({"parent":"sales"})"),
                422, "validation_failed", head);
  // A legal move works and shows in the new parent's children.
  auto m = Call("PATCH", "/api/v1/units/eng", R"({"parent":"sales"})");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(Member(Call("GET", "/api/v1/units/sales").body, "/children/0"),
            "eng");
}

TEST_F(EndpointsTest, TokensCreateListRevoke) {
  Seed();
  auto t = Call("POST", "/api/v1/tokens",
                R"({"name":"ed","role":"editor","unit":"sales"})");
  ASSERT_EQ(t.status, 201) << t.body;
  EXPECT_EQ(Member(t.body, "/name"), "ed");
  EXPECT_EQ(Member(t.body, "/role"), "editor");
  EXPECT_EQ(Member(t.body, "/unit"), "sales");
  const std::string ed = Member(t.body, "/token");
  ASSERT_FALSE(ed.empty());
  // The secret, like every API answer, is never stored by a cache.
  EXPECT_EQ(t.Header("Cache-Control"), "no-store");
  EXPECT_EQ(t.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Call("GET", "/api/v1/tokens").Header("Cache-Control"), "no-store");
  const uint64_t head = Head();
  ExpectRefused(Call("POST", "/api/v1/tokens", R"({"name":"x","role":"god"})"),
                422, "validation_failed", head);
  ExpectRefused(
      Call("POST", "/api/v1/tokens", R"({"name":"ed","role":"viewer"})"), 409,
      "already_exists", head);
  // The start-up admin token's name is taken by it: no created token acts
  // as "admin" in the log, or closes its sessions when revoked.
  ExpectRefused(
      Call("POST", "/api/v1/tokens", R"({"name":"admin","role":"viewer"})"),
      422, "validation_failed", head);
  // Only an admin manages tokens.
  ExpectRefused(
      Call("POST", "/api/v1/tokens", R"({"name":"y","role":"admin"})", ed), 403,
      "forbidden", head);
  EXPECT_EQ(
      Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":2})", ed).status,
      201);
  // Each token reads its own name, role and scope.
  auto me = Call("GET", "/api/v1/me", "", ed);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Member(me.body, "/name"), "ed");
  EXPECT_EQ(Member(me.body, "/role"), "editor");
  EXPECT_EQ(Member(me.body, "/unit"), "sales");
  me = Call("GET", "/api/v1/me");
  EXPECT_EQ(Member(me.body, "/name"), "admin");
  EXPECT_EQ(Member(me.body, "/role"), "admin");
  EXPECT_NE(me.body.find("\"unit\":null"), std::string::npos) << me.body;
  auto list = Call("GET", "/api/v1/tokens");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("\"ed\""), std::string::npos);
  EXPECT_NE(list.body.find("\"editor\""), std::string::npos);
  EXPECT_EQ(list.body.find(ed), std::string::npos);
  auto del = Call("DELETE", "/api/v1/tokens/ed");
  EXPECT_EQ(del.status, 200) << del.body;
  const uint64_t head2 = Head();
  EXPECT_EQ(head2, head + 2);  // the check-in and the revocation
  ExpectRefused(
      Call("POST", "/api/v1/goals/kr-1/check-ins", R"({"value":3})", ed), 401,
      "unauthorized", head2);
  EXPECT_EQ(Call("GET", "/api/v1/me", "", ed).status, 401);
  ExpectRefused(Call("DELETE", "/api/v1/tokens/nobody"), 404, "not_found",
                head2);
}

TEST_F(EndpointsTest, CyclesListValidateAndGoalStatus) {
  Seed();
  const uint64_t head = Head();
  ExpectRefused(
      Call(
          "POST", "/api/v1/cycles",
          R"({"id":"bad","name":"Bad","kind":"month","start":"2026-02-10","end":"2026-02-01"})"),
      422, "validation_failed", head);
  ExpectRefused(
      Call(
          "POST", "/api/v1/cycles",
          R"({"id":"out","name":"Out","kind":"month","start":"2026-03-01","end":"2026-04-30","parent":"q1"})"),
      422, "validation_failed", head);
  ASSERT_EQ(
      Call(
          "POST", "/api/v1/cycles",
          R"({"id":"jan","name":"Jan","kind":"month","start":"2026-01-01","end":"2026-01-31","parent":"q1"})")
          .status,
      201);
  auto l = Call("GET", "/api/v1/cycles");
  ASSERT_EQ(l.status, 200) << l.body;
  EXPECT_NE(l.body.find("\"jan\""), std::string::npos);
  EXPECT_NE(l.body.find("\"q1\""), std::string::npos);
  EXPECT_EQ(Member(Call("GET", "/api/v1/cycles/jan").body, "/parent"), "q1");
  EXPECT_EQ(Call("GET", "/api/v1/cycles/nope").status, 404);
  // Status changes: a bad status is refused; achieved grades 1.
  const uint64_t head2 = Head();
  ExpectRefused(
      Call("POST", "/api/v1/goals/kr-1/status", R"({"status":"finished"})"),
      422, "validation_failed", head2);
  auto st = Call("POST", "/api/v1/goals/kr-1/status",
                 R"({"status":"dropped","reason":"market closed"})");
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(Member(st.body, "/status"), "dropped");
  EXPECT_EQ(Head(), head2 + 1);
  auto retro = Call("GET", "/api/v1/retro?unit=sales&cycle=q1");
  EXPECT_EQ(Member(retro.body, "/dropped/0/id"), "kr-1");
  // The retro says why: the reason of the status change that dropped it,
  // the last one after a reopening.
  EXPECT_EQ(Member(retro.body, "/dropped/0/reason"), "market closed");
  ASSERT_EQ(Call("POST", "/api/v1/goals/kr-1/status",
                 R"({"status":"active","reason":"market reopened"})")
                .status,
            200);
  ASSERT_EQ(Call("POST", "/api/v1/goals/kr-1/status",
                 R"({"status":"dropped","reason":"merged into kr-2"})")
                .status,
            200);
  retro = Call("GET", "/api/v1/retro?unit=sales&cycle=q1");
  EXPECT_EQ(Member(retro.body, "/dropped/0/reason"), "merged into kr-2");
  // As of before the second drop, the first reason.
  retro = Call("GET", "/api/v1/retro?unit=sales&cycle=q1&as_of=" +
                          std::to_string(head2 + 1));
  EXPECT_EQ(Member(retro.body, "/dropped/0/reason"), "market closed");
}

// What a manager is asked to agree to: the goals list filtered by status
// and by the unit whose editors approve them (the parent goal's unit, else
// the goal's unit's parent), as the approval itself decides it.
TEST_F(EndpointsTest, GoalsAwaitingApprovalByTheApprovingUnit) {
  Seed();
  ASSERT_EQ(
      Call("POST", "/api/v1/units",
           R"({"id":"ann","name":"Ann","kind":"person","parent":"sales"})")
          .status,
      201);
  // Under a sales goal, and with no parent goal: both for sales to approve.
  CreateGoal(
      R"({"id":"ann-demos","kind":"key_result","title":"Run 12 demos","unit":"ann","cycle":"q1","parent":"kr-1","measure":{"start":0,"target":12},"status":"draft"})");
  CreateGoal(
      R"({"id":"ann-course","kind":"smart","title":"Finish the sales course","unit":"ann","cycle":"q1","status":"draft"})");
  CreateGoal(
      R"({"id":"ann-calls","kind":"key_result","title":"Make 300 calls","unit":"ann","cycle":"q1","measure":{"start":0,"target":300},"status":"draft"})");
  for (const char* id : {"ann-demos", "ann-course"}) {
    ASSERT_EQ(Call("POST", std::string("/api/v1/goals/") + id + "/status",
                   R"({"status":"proposed"})")
                  .status,
              200);
  }
  const auto ids = [&](const std::string& query) {
    auto r = Call("GET", "/api/v1/goals?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    for (int i = 0;; ++i) {
      std::string id = Member(r.body, "/goals/" + std::to_string(i) + "/id");
      if (id.empty()) break;
      out.push_back(id);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("status=proposed&approver=sales&cycle=q1"),
            (V{"ann-course", "ann-demos"}));
  EXPECT_EQ(ids("status=draft"), (V{"ann-calls"}));
  EXPECT_EQ(ids("status=proposed&approver=ann"), V{});
  EXPECT_EQ(ids("status=proposed&approver=eng"), V{});
  // A goal of a department with no parent goal: its company approves.
  CreateGoal(
      R"({"id":"eng-hire","kind":"smart","title":"Hire two engineers","unit":"eng","cycle":"q1","status":"draft"})");
  ASSERT_EQ(
      Call("POST", "/api/v1/goals/eng-hire/status", R"({"status":"proposed"})")
          .status,
      200);
  EXPECT_EQ(ids("status=proposed&approver=co"), (V{"eng-hire"}));
  // Approved: no longer waiting.
  ASSERT_EQ(Call("POST", "/api/v1/goals/ann-demos/status",
                 R"({"status":"active","reason":"agreed"})")
                .status,
            200);
  EXPECT_EQ(ids("status=proposed&approver=sales"), (V{"ann-course"}));
  // As of before the proposals, none.
  EXPECT_EQ(ids("status=proposed&as_of=1"), V{});
  // An unknown status is refused with the contract's error, nothing
  // appended.
  const uint64_t head = Head();
  ExpectRefused(Call("GET", "/api/v1/goals?status=finished"), 422,
                "validation_failed", head);
  EXPECT_EQ(
      Member(Call("GET", "/api/v1/goals?status=finished").body, "/error/field"),
      "status");
}

}  // namespace
}  // namespace cairn::gateway
