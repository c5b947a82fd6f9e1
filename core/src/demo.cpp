#include "cairn/core/demo.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace cairn {

namespace {

// Collects the demo's commands, each with the moment it is recorded at
// (ctx.now): the company's history happened over the months before `now`,
// so that replaying a board shows it growing.
class Script {
 public:
  explicit Script(Millis now) : now_(now), clock_(now) {}

  // The moment the commands added next are recorded at.
  void RecordAt(Millis t) { clock_ = std::min(t, now_); }
  void RecordDaysAgo(double days) {
    RecordAt(now_ - static_cast<Millis>(days * kMillisPerDay));
  }

  CommandContext As(const std::string& actor, Role role,
                    const std::string& scope = "") const {
    CommandContext c;
    c.actor = actor;
    c.now = clock_;
    c.role = role;
    c.scope_unit = scope;
    return c;
  }
  void Admin(Command cmd) { Add(As("admin", Role::kAdmin), std::move(cmd)); }
  void Add(CommandContext ctx, Command cmd) {
    out_.emplace_back(std::move(ctx), std::move(cmd));
  }

  void NewUnit(const char* id, const char* name, UnitKind kind,
               const char* parent) {
    Admin(CreateUnit{id, name, kind, parent});
  }
  void NewCycle(const std::string& id, const std::string& name, CycleKind kind,
                Day start, Day end, const std::string& parent) {
    Admin(CreateCycle{id, name, kind, start, end, parent});
  }
  // A check-in by `who` with effective time `days_ago` days before now,
  // recorded at that time.
  void Check(const std::string& who, const std::string& goal, double value,
             std::optional<int64_t> confidence, const std::string& note,
             double days_ago) {
    AddCheckIn c;
    c.goal = goal;
    c.value = value;
    c.confidence = confidence;
    c.note = note;
    c.at = now_ - static_cast<Millis>(days_ago * kMillisPerDay);
    CommandContext ctx = As(who, Role::kEditor);
    ctx.now = *c.at;
    Add(std::move(ctx), std::move(c));
  }

  // The commands in the order they were recorded; those recorded at one
  // moment keep the order they were added in (a goal before its parts).
  std::vector<std::pair<CommandContext, Command>> Take() && {
    std::stable_sort(
        out_.begin(), out_.end(),
        [](const auto& a, const auto& b) { return a.first.now < b.first.now; });
    return std::move(out_);
  }

 private:
  Millis now_;
  Millis clock_;
  std::vector<std::pair<CommandContext, Command>> out_;
};

CreateGoal NewGoal(const std::string& id, GoalKind kind,
                   const std::string& title, const std::string& unit,
                   const std::string& cycle, const std::string& owner,
                   const std::string& parent) {
  CreateGoal g;
  g.id = id;
  g.kind = kind;
  g.title = title;
  g.unit = unit;
  g.cycle = cycle;
  g.owner = owner;
  g.parent = parent;
  return g;
}

MeasureInput NewMeasure(double start, double target, Direction d,
                        const std::string& unit) {
  MeasureInput m;
  m.start = start;
  m.target = target;
  m.direction = d;
  m.unit = unit;
  return m;
}

}  // namespace

std::vector<std::pair<CommandContext, Command>> DemoCommands(Millis now) {
  Script s(now);
  const Day today = DayOf(now);
  const int year = YearOf(today);
  const int month = MonthOf(today);
  const int quarter = (month - 1) / 3 + 1;
  const std::string y = std::to_string(year);
  const std::string q = y + "-q" + std::to_string(quarter);
  const Day year_start = MakeDay(year, 1, 1);
  const Day year_end = MakeDay(year, 12, 31);
  const Day q_start = MakeDay(year, (quarter - 1) * 3 + 1, 1);
  const Day q_end = MakeDay(year, quarter * 3, DaysInMonth(year, quarter * 3));
  // Check-ins are spread over up to six weeks before today.
  const double span =
      std::clamp(static_cast<double>(today - q_start), 7.0, 42.0);
  // The quarter's goals are set a few days before it starts (and before
  // any check-in on them), the year's plan before that.
  const Millis q_plan =
      std::min(StartOfDay(q_start) - 3 * kMillisPerDay,
               now - static_cast<Millis>((span + 1) * kMillisPerDay));
  const Millis year_plan = std::min(StartOfDay(year_start) - 21 * kMillisPerDay,
                                    q_plan - kMillisPerDay);
  s.RecordAt(year_plan);

  // --- Organisation.
  s.NewUnit("meetly", "Meetly", UnitKind::kCompany, "");
  s.NewUnit("marketing", "Marketing", UnitKind::kDepartment, "meetly");
  s.NewUnit("sales", "Sales", UnitKind::kDepartment, "meetly");
  s.NewUnit("support", "Support", UnitKind::kDepartment, "meetly");
  s.NewUnit("engineering", "Engineering", UnitKind::kDepartment, "meetly");
  s.NewUnit("people", "People", UnitKind::kDepartment, "meetly");
  s.NewUnit("apac", "APAC region", UnitKind::kTeam, "sales");
  s.NewUnit("li-wei", "Li Wei", UnitKind::kPerson, "apac");
  s.NewUnit("priya", "Priya Nair", UnitKind::kPerson, "apac");
  s.NewUnit("kenji", "Kenji Sato", UnitKind::kPerson, "apac");
  s.NewUnit("sam", "Sam Ortiz", UnitKind::kPerson, "sales");
  s.NewUnit("alice", "Alice Chen", UnitKind::kPerson, "marketing");
  s.NewUnit("maria", "Maria Lopez", UnitKind::kPerson, "support");
  s.NewUnit("omar", "Omar Haddad", UnitKind::kPerson, "engineering");
  s.NewUnit("jo", "Jo Park", UnitKind::kPerson, "people");

  // --- Cycles.
  s.NewCycle("vision-decade", "Ten-year vision", CycleKind::kCustom, year_start,
             MakeDay(year + 9, 12, 31), "");
  s.NewCycle(y, y, CycleKind::kYear, year_start, year_end, "");
  for (int i = 1; i <= 4; ++i) {
    s.NewCycle(y + "-q" + std::to_string(i), "Q" + std::to_string(i) + " " + y,
               CycleKind::kQuarter, MakeDay(year, (i - 1) * 3 + 1, 1),
               MakeDay(year, i * 3, DaysInMonth(year, i * 3)), y);
  }
  for (int i = 1; i <= 3; ++i) {
    int m = (quarter - 1) * 3 + i;
    char id[32], name[32];
    std::snprintf(id, sizeof id, "%s-m%02d", q.c_str(), i);
    std::snprintf(name, sizeof name, "%04d-%02d", year, m);
    s.NewCycle(id, name, CycleKind::kMonth, MakeDay(year, m, 1),
               MakeDay(year, m, DaysInMonth(year, m)), q);
  }

  // --- Metrics: CAC, fed monthly from the CRM.
  s.Add(s.As("alice", Role::kEditor),
        DefineMetric{"cac", "Customer acquisition cost", "USD",
                     Aggregate::kLast});
  for (int m = 1; m <= month; ++m) {
    const Millis ts = StartOfDay(MakeDay(year, m, 1));
    RecordMetric r{"cac", {}, "crm"};
    r.points.push_back({ts, 250 - 3.5 * (m - 1) - (m % 2) * 1.5});
    s.RecordAt(ts);
    s.Add(s.As("crm-sync", Role::kEditor), std::move(r));
  }
  s.RecordAt(year_plan);

  // --- Vision and the company objective.
  {
    CreateGoal v =
        NewGoal("vision", GoalKind::kBhag,
                "The remote collaboration tool every engineering team "
                "in North America reaches for first",
                "meetly", "vision-decade", "", "");
    s.Admin(v);
    CreateGoal g = NewGoal("grow-efficiently", GoalKind::kObjective,
                           "Grow efficiently", "meetly", y, "", "vision");
    s.Admin(g);
  }

  // --- Marketing.
  s.Admin(NewGoal("mkt-cac", GoalKind::kObjective,
                  "Cut customer acquisition cost", "marketing", y, "alice",
                  "grow-efficiently"));
  {
    CreateGoal kr = NewGoal("kr-cac", GoalKind::kKeyResult,
                            "Cut CAC from $250 to $150 by year end",
                            "marketing", y, "alice", "mkt-cac");
    kr.measure = NewMeasure(250, 150, Direction::kDecrease, "USD");
    kr.measure->metric = "cac";
    kr.measure->aggregate = Aggregate::kLast;
    kr.due = year_end;
    s.Admin(kr);
    CreateGoal ms =
        NewGoal("ms-cac-225", GoalKind::kMilestone, "CAC at $225 this quarter",
                "marketing", q, "alice", "mkt-cac");
    ms.measure = NewMeasure(250, 225, Direction::kAtMost, "USD");
    ms.measure->metric = "cac";
    s.RecordAt(q_plan);
    s.Admin(ms);
    s.RecordAt(year_plan);
    struct Init {
      const char* id;
      const char* title;
      int month, day;
    };
    const Init inits[] = {
        {"init-drop-channels", "Drop the worst 20% of channels by ROI", 2, 15},
        {"init-lead-scoring",
         "Automatic lead scoring flags leads with over 40% conversion odds", 3,
         1},
        {"init-funnel-dashboard", "Live funnel dashboard with alerts", 2, 28},
    };
    for (const Init& in : inits) {
      CreateGoal g = NewGoal(in.id, GoalKind::kInitiative, in.title,
                             "marketing", y, "alice", "mkt-cac");
      g.measure = NewMeasure(0, 1, Direction::kBinary, "");
      g.due = MakeDay(year, in.month, in.day);
      s.Admin(g);
    }
    s.Check("alice", "init-drop-channels", 1, 9, "Cut 6 of 30 channels",
            span * 0.9);
    s.RecordDaysAgo(span * 0.9);
    s.Add(s.As("alice", Role::kEditor),
          ChangeGoalStatus{"init-drop-channels", GoalStatus::kAchieved,
                           "Cut 6 of 30 channels"});
  }

  // --- Support.
  s.RecordAt(q_plan);
  s.Admin(NewGoal("sup-trusted", GoalKind::kObjective,
                  "Be the most trusted provider", "support", q, "maria",
                  "grow-efficiently"));
  {
    CreateGoal csat = NewGoal("kr-csat", GoalKind::kKeyResult,
                              "Raise customer satisfaction from 80% to 95%",
                              "support", q, "maria", "sup-trusted");
    csat.measure = NewMeasure(80, 95, Direction::kIncrease, "%");
    csat.weight = 2;
    s.Admin(csat);
    CreateGoal up =
        NewGoal("kr-uptime", GoalKind::kKeyResult, "Keep uptime at least 98%",
                "support", q, "maria", "sup-trusted");
    up.measure = NewMeasure(97, 98, Direction::kAtLeast, "%");
    s.Admin(up);
    CreateGoal fr = NewGoal("kr-first-response", GoalKind::kKeyResult,
                            "First response from 3 h down to under 1 h",
                            "support", q, "maria", "sup-trusted");
    fr.measure = NewMeasure(3, 1, Direction::kDecrease, "h");
    s.Admin(fr);
    const double csat_values[] = {81, 83, 84.5, 86, 88};
    for (int i = 0; i < 5; ++i) {
      s.Check("maria", "kr-csat", csat_values[i], 7 + (i % 2),
              i == 4 ? "New onboarding emails help" : "",
              span * (1.0 - 0.2 * i));
    }
    s.Check("maria", "kr-uptime", 99.2, 9, "", span * 0.5);
    s.Check("maria", "kr-uptime", 99.6, 9, "", span * 0.1);
    // Confidence falls week after week until the KR turns red.
    const double fr_values[] = {2.6, 2.5, 2.55, 2.7, 2.8};
    const int fr_conf[] = {8, 6, 5, 3, 2};
    for (int i = 0; i < 5; ++i) {
      s.Check("maria", "kr-first-response", fr_values[i], fr_conf[i],
              i == 4 ? "Two agents left; queue is growing" : "",
              span * (0.95 - 0.2 * i));
    }
    // Mid-quarter the CSAT target is lowered.
    EditGoal ed;
    ed.id = "kr-csat";
    ed.measure = MeasurePatch{};
    ed.measure->target = 92;
    ed.reason = "budget cut";
    s.RecordDaysAgo(span * 0.5);
    s.Add(s.As("maria", Role::kEditor), ed);
  }

  // --- Sales: APAC yearly task and target, split by ability, then by
  // month with last year's monthly figures as seasonal weights.
  s.RecordAt(year_plan);
  s.Admin(NewGoal("sales-apac", GoalKind::kObjective, "Grow APAC sales", "apac",
                  y, "", "grow-efficiently"));
  {
    CreateGoal task =
        NewGoal("apac-task", GoalKind::kKeyResult, "APAC sales task of 5.6M",
                "apac", y, "", "sales-apac");
    task.committed = true;
    task.measure = NewMeasure(0, 5'600'000, Direction::kIncrease, "USD");
    s.Admin(task);
    CreateGoal target =
        NewGoal("apac-target", GoalKind::kKeyResult, "APAC sales target of 7M",
                "apac", y, "", "sales-apac");
    target.measure = NewMeasure(0, 7'000'000, Direction::kIncrease, "USD");
    s.Admin(target);
    Decompose by_people;
    by_people.goal = "apac-target";
    by_people.by = SplitBy::kOwners;
    by_people.integer = true;
    by_people.parts = {{"li-wei", "li-wei", 5.0},
                       {"priya", "priya", 3.0},
                       {"kenji", "kenji", 2.0}};
    s.Admin(by_people);
    const std::vector<double> seasonal = {380, 410, 520, 560, 590, 610,
                                          480, 450, 600, 640, 700, 820};
    const char* people[] = {"li-wei", "priya", "kenji"};
    const double share[] = {3'500'000, 2'100'000, 1'400'000};
    double seasonal_sum = 0;
    for (double w : seasonal) seasonal_sum += w;
    std::vector<double> sold(13, 0.0);  // by month, the three together
    // A month's sales are reported on its last day; this month's so far
    // yesterday.
    auto reported_days_ago = [&](int m) {
      return m == month ? 1.0 : double(today - MakeDay(year, m + 1, 1) + 1);
    };
    for (int p = 0; p < 3; ++p) {
      const std::string part = "apac-target-p" + std::to_string(p + 1);
      Decompose by_month;
      by_month.goal = part;
      by_month.by = SplitBy::kTime;
      by_month.into = SplitInto::kMonth;
      by_month.weights = seasonal;
      by_month.integer = true;
      s.Admin(by_month);
      // Sales so far, month by month (a little under plan for some).
      for (int m = 1; m <= month; ++m) {
        char id[64];
        std::snprintf(id, sizeof id, "%s-m%02d", part.c_str(), m);
        double planned = std::round(share[p] * seasonal[m - 1] / seasonal_sum);
        double ratio = (m == month)
                           ? std::min(1.0, (DayOfMonth(today) - 1) /
                                               double(DaysInMonth(year, m)))
                           : 0.8 + 0.05 * ((m * (p + 2)) % 6);
        if (m == month && DayOfMonth(today) == 1) continue;
        sold[m] += std::round(planned * ratio);
        s.Check(people[p], id, std::round(planned * ratio), 7, "",
                std::max(0.0, reported_days_ago(m)));
      }
    }
    // The committed task counts the same sales: the team's lead reports
    // the year's total so far after each month.
    double total = 0;
    for (int m = 1; m <= month; ++m) {
      if (m == month && DayOfMonth(today) == 1) break;
      total += sold[m];
      s.Check("apac-lead", "apac-task", total, 8, "",
              std::max(0.0, reported_days_ago(m)));
    }
  }

  // --- Sales: one account executive's funnel, 1 signing a day.
  s.RecordAt(q_plan);
  {
    CreateGoal sign =
        NewGoal("sam-signings", GoalKind::kKeyResult,
                "Sign one new customer a day", "sam", q, "sam", "sales-apac");
    sign.measure = NewMeasure(0, 1, Direction::kIncrease, "signings/day");
    s.Admin(sign);
    Decompose funnel;
    funnel.goal = "sam-signings";
    funnel.by = SplitBy::kFunnel;
    funnel.stages = {{"calls", std::nullopt},
                     {"appointments", 0.2},
                     {"meetings", 0.5},
                     {"signings", 0.2}};
    s.Add(s.As("sam", Role::kEditor), funnel);
    const char* stage_ids[] = {"sam-signings-f1", "sam-signings-f2",
                               "sam-signings-f3", "sam-signings-f4"};
    // Yesterday's numbers, and a day some weeks back.
    const double earlier[] = {38, 7, 3, 0};
    const double values[] = {46, 9, 4, 1};
    for (int i = 0; i < 4; ++i) {
      s.Check("sam", stage_ids[i], earlier[i], 5, "", span * 0.5);
      s.Check("sam", stage_ids[i], values[i], 6, "", 1);
    }
  }

  // --- Engineering: a SMART goal and a vague one.
  s.RecordAt(year_plan);
  {
    CreateGoal smart =
        NewGoal("smart-integrations", GoalKind::kSmart,
                "Ship three new third-party integrations by the end of Q3",
                "engineering", y, "omar", "grow-efficiently");
    smart.measure = NewMeasure(0, 3, Direction::kIncrease, "integrations");
    smart.due = MakeDay(year, 9, 30);
    s.Admin(smart);
    s.Check("omar", "smart-integrations", 2, 8, "Jira and Linear shipped",
            span * 0.4);
    s.RecordAt(q_plan);
    s.Admin(NewGoal("vague-better", GoalKind::kObjective,
                    "Make the product better", "engineering", q, "", ""));
  }

  // --- Balanced scorecard for the company.
  s.RecordAt(q_plan);
  {
    struct Card {
      const char* id;
      const char* title;
      Perspective p;
      double start, target;
      Direction d;
      const char* unit;
      double earlier, value;
      double days_ago;  // of the latest check-in
    };
    // Reviewed twice this quarter, the latest a few days ago; on-time
    // delivery was not updated since an early review, so once the quarter
    // is a few weeks old it shows as stale.
    const Card cards[] = {
        {"bsc-margin", "Keep profit margin at least 20%",
         Perspective::kFinancial, 15, 20, Direction::kAtLeast, "%", 19, 21.5,
         2},
        {"bsc-nps", "Raise net promoter score from 30 to 50",
         Perspective::kCustomer, 30, 50, Direction::kIncrease, "NPS", 36, 41,
         3},
        {"bsc-on-time", "Deliver at least 90% of releases on time",
         Perspective::kInternal, 70, 90, Direction::kAtLeast, "%", 82, 86,
         span * 0.6},
        {"bsc-training", "Training completion from 40% to 100%",
         Perspective::kLearning, 40, 100, Direction::kIncrease, "%", 60, 75, 2},
    };
    for (const Card& c : cards) {
      CreateGoal g = NewGoal(c.id, GoalKind::kBscObjective, c.title, "meetly",
                             q, "", "grow-efficiently");
      g.perspective = c.p;
      g.measure = NewMeasure(c.start, c.target, c.d, c.unit);
      s.Admin(g);
      s.Check("jo", c.id, c.earlier, 7, "", span * 0.8);
      s.Check("jo", c.id, c.value, 7, "", c.days_ago);
    }
  }

  // --- A dropped goal.
  s.RecordDaysAgo(span * 0.7);
  s.Add(s.As("alice", Role::kEditor),
        ChangeGoalStatus{"init-funnel-dashboard", GoalStatus::kDropped,
                         "Replaced by the vendor's built-in dashboard"});

  // --- A goal proposed by an employee and approved by her manager.
  {
    CreateGoal p = NewGoal("priya-webinars", GoalKind::kKeyResult,
                           "Run four APAC partner webinars this quarter",
                           "priya", q, "priya", "apac-task");
    p.measure = NewMeasure(0, 4, Direction::kIncrease, "webinars");
    p.status = GoalStatus::kDraft;
    s.RecordDaysAgo(span * 0.35);
    s.Add(s.As("priya", Role::kEditor, "priya"), p);
    s.RecordDaysAgo(span * 0.3);
    s.Add(s.As("priya", Role::kEditor, "priya"),
          ChangeGoalStatus{"priya-webinars", GoalStatus::kProposed,
                           "Partners asked for it"});
    s.RecordDaysAgo(span * 0.25);
    s.Add(s.As("apac-lead", Role::kEditor, "apac"),
          ChangeGoalStatus{"priya-webinars", GoalStatus::kActive,
                           "Agreed in our one-on-one"});
    s.Check("priya", "priya-webinars", 1, 8, "First webinar: 140 sign-ups",
            span * 0.2);
  }

  // --- Retro notes on the quarter so far, in the last days.
  s.RecordDaysAgo(2);
  s.Add(s.As("maria", Role::kEditor),
        NoteRetro{"support", q, "kr-first-response", RetroNoteKind::kCause,
                  "Two agents left mid-quarter and hiring took six weeks"});
  s.Add(s.As("maria", Role::kEditor),
        NoteRetro{"support", q, "", RetroNoteKind::kAction,
                  "Add a follow-the-sun rota with the APAC team"});
  s.Add(s.As("alice", Role::kEditor),
        NoteRetro{"marketing", q, "kr-cac", RetroNoteKind::kHighlight,
                  "Dropping the worst channels cut CAC faster than planned"});
  s.Add(s.As("admin", Role::kAdmin),
        NoteRetro{"meetly", q, "", RetroNoteKind::kLesson,
                  "Agree weights before splitting targets by person"});
  (void)q_end;
  return std::move(s).Take();
}

}  // namespace cairn
