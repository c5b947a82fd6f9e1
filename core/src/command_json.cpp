#include "cairn/core/command_json.hpp"

#include <simdjson.h>

#include <cmath>
#include <initializer_list>

namespace cairn {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

Error Invalid(std::string field, std::string message) {
  return Error::Validation(std::move(field), std::move(message));
}

// A JSON object being read, with the member path prefix used in errors.
class Reader {
 public:
  Reader(object o, std::string prefix) : o_(o), prefix_(std::move(prefix)) {}

  std::string Path(std::string_view key) const {
    return prefix_ + std::string(key);
  }

  // Refuses members not in `allowed`.
  Status Only(std::initializer_list<std::string_view> allowed) const {
    for (auto field : o_) {
      bool known = false;
      for (std::string_view a : allowed) known = known || field.key == a;
      if (!known) {
        return Invalid(Path(field.key), "unknown field " + Path(field.key));
      }
    }
    return Status::Ok();
  }

  // The member, or nullopt when absent or null.
  std::optional<element> Get(std::string_view key) const {
    element e;
    if (o_[key].get(e)) return std::nullopt;
    if (e.is_null()) return std::nullopt;
    return e;
  }
  bool IsNull(std::string_view key) const {
    element e;
    return !o_[key].get(e) && e.is_null();
  }
  bool Present(std::string_view key) const {
    element e;
    return !o_[key].get(e);
  }

  Status String(std::string_view key, std::string& out) const {
    auto e = Get(key);
    if (!e) return Status::Ok();
    std::string_view sv;
    if (e->get_string().get(sv)) {
      return Invalid(Path(key), Path(key) + " must be a string");
    }
    out = sv;
    return Status::Ok();
  }
  Status OptString(std::string_view key,
                   std::optional<std::string>& out) const {
    if (!Get(key)) return Status::Ok();
    std::string s;
    if (auto st = String(key, s); !st) return st;
    out = std::move(s);
    return Status::Ok();
  }
  Status Number(std::string_view key, std::optional<double>& out) const {
    auto e = Get(key);
    if (!e) return Status::Ok();
    double d;
    if (!e->is_number() || e->get_double().get(d)) {
      return Invalid(Path(key), Path(key) + " must be a number");
    }
    out = d;
    return Status::Ok();
  }
  Status Integer(std::string_view key, std::optional<int64_t>& out) const {
    std::optional<double> d;
    if (auto st = Number(key, d); !st) return st;
    if (!d) return Status::Ok();
    if (*d != std::floor(*d) || std::fabs(*d) > 1e15) {
      return Invalid(Path(key), Path(key) + " must be a whole number");
    }
    out = static_cast<int64_t>(*d);
    return Status::Ok();
  }
  Status Bool(std::string_view key, std::optional<bool>& out) const {
    auto e = Get(key);
    if (!e) return Status::Ok();
    bool b;
    if (e->get_bool().get(b)) {
      return Invalid(Path(key), Path(key) + " must be true or false");
    }
    out = b;
    return Status::Ok();
  }
  Status Date(std::string_view key, std::optional<Day>& out) const {
    std::string s;
    if (auto st = String(key, s); !st) return st;
    if (!Get(key)) return Status::Ok();
    auto d = ParseDate(s);
    if (!d) return Invalid(Path(key), Path(key) + " must be YYYY-MM-DD");
    out = *d;
    return Status::Ok();
  }
  Status Time(std::string_view key, std::optional<Millis>& out) const {
    std::string s;
    if (auto st = String(key, s); !st) return st;
    if (!Get(key)) return Status::Ok();
    auto t = ParseTime(s);
    if (!t) return Invalid(Path(key), Path(key) + " must be an RFC 3339 time");
    out = *t;
    return Status::Ok();
  }
  template <typename E, typename F>
  Status Enum(std::string_view key, F parse, std::optional<E>& out) const {
    std::string s;
    if (auto st = String(key, s); !st) return st;
    if (!Get(key)) return Status::Ok();
    auto v = parse(s);
    if (!v) return Invalid(Path(key), "unknown " + Path(key) + " " + s);
    out = *v;
    return Status::Ok();
  }
  Status Object(std::string_view key, std::optional<Reader>& out) const {
    auto e = Get(key);
    if (!e) return Status::Ok();
    object o;
    if (e->get_object().get(o)) {
      return Invalid(Path(key), Path(key) + " must be an object");
    }
    out.emplace(o, Path(key) + ".");
    return Status::Ok();
  }
  Status Array(std::string_view key, std::optional<array>& out) const {
    auto e = Get(key);
    if (!e) return Status::Ok();
    array a;
    if (e->get_array().get(a)) {
      return Invalid(Path(key), Path(key) + " must be an array");
    }
    out = a;
    return Status::Ok();
  }

 private:
  object o_;
  std::string prefix_;
};

#define CAIRN_TRY(expr)            \
  do {                             \
    if (auto st_ = (expr); !st_) { \
      return st_.error();          \
    }                              \
  } while (0)

// Parses `body` as a JSON object and runs `fn(reader)`.
template <typename F>
Result<Command> WithObject(std::string_view body, F fn) {
  thread_local simdjson::dom::parser parser;
  element root;
  auto err = parser.parse(body.data(), body.size()).get(root);
  if (err) {
    return Error{ErrorCode::kBadJson,
                 std::string("invalid JSON: ") + simdjson::error_message(err),
                 {}};
  }
  object o;
  if (root.get_object().get(o)) {
    return Invalid("", "the body must be a JSON object");
  }
  return fn(Reader(o, ""));
}

Status ReadMeasureInput(const Reader& r, MeasureInput& m) {
  CAIRN_TRY(r.Only({"start", "target", "stretch", "direction", "unit", "metric",
                    "aggregate"}));
  CAIRN_TRY(r.Number("start", m.start));
  CAIRN_TRY(r.Number("target", m.target));
  CAIRN_TRY(r.Number("stretch", m.stretch));
  CAIRN_TRY(r.Enum("direction", ParseDirection, m.direction));
  CAIRN_TRY(r.String("unit", m.unit));
  CAIRN_TRY(r.String("metric", m.metric));
  CAIRN_TRY(r.Enum("aggregate", ParseAggregate, m.aggregate));
  return Status::Ok();
}

}  // namespace

Result<Command> ParseCreateUnit(std::string_view body) {
  return WithObject(body, [](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"id", "name", "kind", "parent"}));
    CreateUnit c;
    CAIRN_TRY(r.String("id", c.id));
    CAIRN_TRY(r.String("name", c.name));
    CAIRN_TRY(r.Enum("kind", ParseUnitKind, c.kind));
    CAIRN_TRY(r.String("parent", c.parent));
    return Command{std::move(c)};
  });
}

Result<Command> ParseEditUnit(std::string_view id, std::string_view body) {
  return WithObject(body, [id](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"name", "parent"}));
    EditUnit c;
    c.id = id;
    CAIRN_TRY(r.OptString("name", c.name));
    CAIRN_TRY(r.OptString("parent", c.parent));
    if (r.IsNull("parent")) c.parent = std::string();
    return Command{std::move(c)};
  });
}

Result<Command> ParseCreateCycle(std::string_view body) {
  return WithObject(body, [](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"id", "name", "kind", "start", "end", "parent"}));
    CreateCycle c;
    CAIRN_TRY(r.String("id", c.id));
    CAIRN_TRY(r.String("name", c.name));
    CAIRN_TRY(r.Enum("kind", ParseCycleKind, c.kind));
    CAIRN_TRY(r.Date("start", c.start));
    CAIRN_TRY(r.Date("end", c.end));
    CAIRN_TRY(r.String("parent", c.parent));
    return Command{std::move(c)};
  });
}

Result<Command> ParseCloseCycle(std::string_view id, std::string_view body) {
  bool blank = true;
  for (char ch : body) {
    blank = blank && (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t');
  }
  if (blank) return Command{CloseCycle{std::string(id)}};
  return WithObject(body, [id](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({}));
    return Command{CloseCycle{std::string(id)}};
  });
}

Result<Command> ParseCreateGoal(std::string_view body) {
  return WithObject(body, [](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"id", "kind", "title", "description", "unit", "cycle",
                      "owner", "parent", "weight", "committed", "perspective",
                      "due", "measure", "status"}));
    CreateGoal c;
    CAIRN_TRY(r.String("id", c.id));
    CAIRN_TRY(r.Enum("kind", ParseGoalKind, c.kind));
    CAIRN_TRY(r.String("title", c.title));
    CAIRN_TRY(r.String("description", c.description));
    CAIRN_TRY(r.String("unit", c.unit));
    CAIRN_TRY(r.String("cycle", c.cycle));
    CAIRN_TRY(r.String("owner", c.owner));
    CAIRN_TRY(r.String("parent", c.parent));
    CAIRN_TRY(r.Number("weight", c.weight));
    std::optional<bool> committed;
    CAIRN_TRY(r.Bool("committed", committed));
    c.committed = committed.value_or(false);
    std::optional<Perspective> perspective;
    CAIRN_TRY(r.Enum("perspective", ParsePerspective, perspective));
    c.perspective = perspective.value_or(Perspective::kNone);
    CAIRN_TRY(r.Date("due", c.due));
    std::optional<Reader> m;
    CAIRN_TRY(r.Object("measure", m));
    if (m) {
      c.measure.emplace();
      CAIRN_TRY(ReadMeasureInput(*m, *c.measure));
    }
    CAIRN_TRY(r.Enum("status", ParseGoalStatus, c.status));
    return Command{std::move(c)};
  });
}

Result<Command> ParseEditGoal(std::string_view id, std::string_view body) {
  return WithObject(body, [id](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"title", "description", "owner", "parent", "weight",
                      "committed", "perspective", "due", "measure", "reason",
                      "rescale_parts"}));
    EditGoal c;
    c.id = id;
    std::optional<bool> rescale;
    CAIRN_TRY(r.Bool("rescale_parts", rescale));
    c.rescale_parts = rescale.value_or(false);
    CAIRN_TRY(r.OptString("title", c.title));
    if (r.IsNull("title")) return Invalid("title", "title cannot be null");
    CAIRN_TRY(r.OptString("description", c.description));
    if (r.IsNull("description")) c.description = std::string();
    CAIRN_TRY(r.OptString("owner", c.owner));
    if (r.IsNull("owner")) c.owner = std::string();
    CAIRN_TRY(r.OptString("parent", c.parent));
    if (r.IsNull("parent")) c.parent = std::string();
    CAIRN_TRY(r.Number("weight", c.weight));
    if (r.IsNull("weight")) return Invalid("weight", "weight cannot be null");
    CAIRN_TRY(r.Bool("committed", c.committed));
    if (r.IsNull("committed")) {
      return Invalid("committed", "committed cannot be null");
    }
    CAIRN_TRY(r.Enum("perspective", ParsePerspective, c.perspective));
    if (r.IsNull("perspective")) c.perspective = Perspective::kNone;
    std::optional<Day> due;
    CAIRN_TRY(r.Date("due", due));
    if (due) {
      c.due = due;
    } else if (r.IsNull("due")) {
      c.due = std::optional<Day>();
    }
    std::optional<Reader> m;
    CAIRN_TRY(r.Object("measure", m));
    if (r.IsNull("measure")) c.clear_measure = true;
    if (m) {
      CAIRN_TRY(m->Only({"start", "target", "stretch", "direction", "unit",
                         "metric", "aggregate"}));
      MeasurePatch p;
      CAIRN_TRY(m->Number("start", p.start));
      CAIRN_TRY(m->Number("target", p.target));
      if (m->IsNull("start")) {
        return Invalid("measure.start", "measure.start cannot be null");
      }
      if (m->IsNull("target")) {
        return Invalid("measure.target", "measure.target cannot be null");
      }
      CAIRN_TRY(m->Number("stretch", p.stretch));
      p.clear_stretch = m->IsNull("stretch");
      CAIRN_TRY(m->Enum("direction", ParseDirection, p.direction));
      CAIRN_TRY(m->OptString("unit", p.unit));
      if (m->IsNull("unit")) p.unit = std::string();
      CAIRN_TRY(m->OptString("metric", p.metric));
      if (m->IsNull("metric")) p.metric = std::string();
      CAIRN_TRY(m->Enum("aggregate", ParseAggregate, p.aggregate));
      c.measure = std::move(p);
    }
    CAIRN_TRY(r.String("reason", c.reason));
    return Command{std::move(c)};
  });
}

Result<Command> ParseChangeGoalStatus(std::string_view id,
                                      std::string_view body) {
  return WithObject(body, [id](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"status", "reason"}));
    ChangeGoalStatus c;
    c.id = id;
    CAIRN_TRY(r.Enum("status", ParseGoalStatus, c.status));
    CAIRN_TRY(r.String("reason", c.reason));
    return Command{std::move(c)};
  });
}

Result<Command> ParseCheckIn(std::string_view id, std::string_view body) {
  return WithObject(body, [id](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"value", "confidence", "note", "at", "correction_of"}));
    AddCheckIn c;
    c.goal = id;
    CAIRN_TRY(r.Number("value", c.value));
    CAIRN_TRY(r.Integer("confidence", c.confidence));
    CAIRN_TRY(r.String("note", c.note));
    CAIRN_TRY(r.Time("at", c.at));
    CAIRN_TRY(r.Integer("correction_of", c.correction_of));
    return Command{std::move(c)};
  });
}

Result<Command> ParseDecompose(std::string_view id, std::string_view body) {
  return WithObject(body, [id](const Reader& r) -> Result<Command> {
    Decompose c;
    c.goal = id;
    std::optional<SplitBy> by;
    CAIRN_TRY(r.Enum("by", ParseSplitBy, by));
    if (!by) return Invalid("by", "by is required");
    c.by = *by;
    std::optional<bool> integer;
    if (c.by == SplitBy::kTime) {
      CAIRN_TRY(r.Only({"by", "into", "weights", "working_days", "integer"}));
      CAIRN_TRY(r.Enum("into", ParseSplitInto, c.into));
      std::optional<array> weights;
      CAIRN_TRY(r.Array("weights", weights));
      if (weights) {
        c.weights.emplace();
        size_t i = 0;
        for (element w : *weights) {
          double d;
          if (!w.is_number() || w.get_double().get(d)) {
            return Invalid("weights[" + std::to_string(i) + "]",
                           "a weight must be a number");
          }
          c.weights->push_back(d);
          ++i;
        }
      }
      std::optional<bool> working;
      CAIRN_TRY(r.Bool("working_days", working));
      c.working_days = working.value_or(false);
      CAIRN_TRY(r.Bool("integer", integer));
    } else if (c.by == SplitBy::kOwners) {
      CAIRN_TRY(r.Only({"by", "parts", "integer"}));
      std::optional<array> parts;
      CAIRN_TRY(r.Array("parts", parts));
      if (parts) {
        size_t i = 0;
        for (element p : *parts) {
          std::string f = "parts[" + std::to_string(i) + "]";
          object o;
          if (p.get_object().get(o)) {
            return Invalid(f, f + " must be an object");
          }
          Reader pr(o, f + ".");
          CAIRN_TRY(pr.Only({"unit", "owner", "weight"}));
          OwnerPart part;
          CAIRN_TRY(pr.String("unit", part.unit));
          CAIRN_TRY(pr.String("owner", part.owner));
          CAIRN_TRY(pr.Number("weight", part.weight));
          c.parts.push_back(std::move(part));
          ++i;
        }
      }
      CAIRN_TRY(r.Bool("integer", integer));
    } else {
      CAIRN_TRY(r.Only({"by", "stages"}));
      std::optional<array> stages;
      CAIRN_TRY(r.Array("stages", stages));
      if (stages) {
        size_t i = 0;
        for (element s : *stages) {
          std::string f = "stages[" + std::to_string(i) + "]";
          object o;
          if (s.get_object().get(o)) {
            return Invalid(f, f + " must be an object");
          }
          Reader sr(o, f + ".");
          CAIRN_TRY(sr.Only({"name", "rate"}));
          FunnelStage stage;
          CAIRN_TRY(sr.String("name", stage.name));
          CAIRN_TRY(sr.Number("rate", stage.rate));
          c.stages.push_back(std::move(stage));
          ++i;
        }
      }
    }
    c.integer = integer.value_or(false);
    return Command{std::move(c)};
  });
}

Result<Command> ParseNoteRetro(std::string_view body) {
  return WithObject(body, [](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"unit", "cycle", "goal", "kind", "text"}));
    NoteRetro c;
    CAIRN_TRY(r.String("unit", c.unit));
    CAIRN_TRY(r.String("cycle", c.cycle));
    CAIRN_TRY(r.String("goal", c.goal));
    CAIRN_TRY(r.Enum("kind", ParseRetroNoteKind, c.kind));
    CAIRN_TRY(r.String("text", c.text));
    return Command{std::move(c)};
  });
}

Result<Command> ParseDefineMetric(std::string_view body) {
  return WithObject(body, [](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"id", "name", "unit", "aggregate"}));
    DefineMetric c;
    CAIRN_TRY(r.String("id", c.id));
    CAIRN_TRY(r.String("name", c.name));
    CAIRN_TRY(r.String("unit", c.unit));
    CAIRN_TRY(r.Enum("aggregate", ParseAggregate, c.aggregate));
    return Command{std::move(c)};
  });
}

Result<Command> ParseRecordMetric(std::string_view id, std::string_view body) {
  return WithObject(body, [id](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"points", "source"}));
    RecordMetric c;
    c.id = id;
    std::optional<array> points;
    CAIRN_TRY(r.Array("points", points));
    if (points) {
      if (points->size() > kMaxMetricPoints) {
        return Invalid("points", "at most 10000 points in one call");
      }
      c.points.reserve(points->size());
      size_t i = 0;
      for (element p : *points) {
        std::string f = "points[" + std::to_string(i) + "]";
        object o;
        if (p.get_object().get(o)) {
          return Invalid(f, f + " must be an object");
        }
        Reader pr(o, f + ".");
        CAIRN_TRY(pr.Only({"ts", "value"}));
        std::optional<Millis> ts;
        std::optional<double> value;
        CAIRN_TRY(pr.Time("ts", ts));
        CAIRN_TRY(pr.Number("value", value));
        if (!ts) return Invalid(f + ".ts", f + ".ts is required");
        if (!value) return Invalid(f + ".value", f + ".value is required");
        c.points.push_back(MetricPoint{*ts, *value});
        ++i;
      }
    }
    CAIRN_TRY(r.String("source", c.source));
    return Command{std::move(c)};
  });
}

Result<Command> ParseCreateToken(std::string_view body) {
  return WithObject(body, [](const Reader& r) -> Result<Command> {
    CAIRN_TRY(r.Only({"name", "role", "unit"}));
    CreateToken c;
    CAIRN_TRY(r.String("name", c.name));
    CAIRN_TRY(r.Enum("role", ParseRole, c.role));
    CAIRN_TRY(r.String("unit", c.unit));
    return Command{std::move(c)};
  });
}

Result<Command> ParseRevokeToken(std::string_view name) {
  return Command{RevokeToken{std::string(name)}};
}

}  // namespace cairn
