#include "cairn/projections/history.hpp"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "cairn/core/time.hpp"

namespace cairn::projections {
namespace {

using Members = std::vector<std::pair<std::string, std::string>>;

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' ||
                        s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// The members of a JSON object as (key, raw JSON value) pairs, in order;
// nullopt when `json` is not an object or does not parse.
std::optional<Members> ParseMembers(std::string_view json) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::nullopt;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return std::nullopt;
  Members out;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return std::nullopt;
    simdjson::ondemand::value v;
    if (field.value().get(v)) return std::nullopt;
    simdjson::ondemand::json_type type;
    if (v.type().get(type)) return std::nullopt;
    std::string_view raw;
    if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object o;
      if (v.get_object().get(o) || o.raw_json().get(raw)) return std::nullopt;
    } else if (type == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array a;
      if (v.get_array().get(a) || a.raw_json().get(raw)) return std::nullopt;
    } else {
      raw = v.raw_json_token();
    }
    out.emplace_back(std::string(key), std::string(TrimRight(raw)));
  }
  return out;
}

const std::string* Find(const Members& m, std::string_view key) {
  for (const auto& [k, v] : m) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<uint64_t> ParseUint(const std::string* raw) {
  if (!raw || raw->empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : *raw) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// A whole measure (object or null) on each side, spelled out per member.
void MeasureChanges(const std::string& from, const std::string& to,
                    std::vector<FieldChange>& out) {
  std::map<std::string, std::pair<std::string, std::string>> fields;
  std::vector<std::string> order;
  auto add = [&](const std::string& json, bool is_from) {
    if (json == "null") return;
    auto m = ParseMembers(json);
    if (!m) return;
    for (auto& [k, v] : *m) {
      auto [it, inserted] = fields.try_emplace(k, "null", "null");
      if (inserted) order.push_back(k);
      (is_from ? it->second.first : it->second.second) = v;
    }
  };
  add(from, true);
  add(to, false);
  for (const std::string& k : order) {
    const auto& [f, t] = fields[k];
    if (f != t) out.push_back({"measure." + k, f, t});
  }
}

}  // namespace

std::vector<FieldChange> GoalEditChanges(const Event& event) {
  std::vector<FieldChange> out;
  if (event.type == "goal.created") {
    auto data = ParseMembers(event.data);
    if (!data) return out;
    for (const auto& [k, v] : *data) {
      if (k == "measure") {
        MeasureChanges("null", v, out);
      } else {
        out.push_back({k, "null", v});
      }
    }
  } else if (event.type == "goal.edited") {
    auto data = ParseMembers(event.data);
    if (!data) return out;
    const std::string* changes = Find(*data, "changes");
    if (!changes) return out;
    auto fields = ParseMembers(*changes);
    if (!fields) return out;
    for (const auto& [k, v] : *fields) {
      auto ft = ParseMembers(v);
      if (!ft) continue;
      const std::string* f = Find(*ft, "from");
      const std::string* t = Find(*ft, "to");
      std::string from = f ? *f : "null";
      std::string to = t ? *t : "null";
      if (k == "measure") {
        MeasureChanges(from, to, out);
      } else {
        out.push_back({k, std::move(from), std::move(to)});
      }
    }
  }
  return out;
}

std::string EventReason(const Event& event) {
  auto data = ParseMembers(event.data);
  if (!data) return {};
  const std::string* r = Find(*data, "reason");
  if (!r || r->size() < 2 || r->front() != '"') return {};
  // Unescape through simdjson: the raw text is a JSON string.
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(*r);
  simdjson::ondemand::document doc;
  std::string_view s;
  if (parser.iterate(padded).get(doc) || doc.get_string().get(s)) return {};
  return std::string(s);
}

std::string StatusChangedTo(const Event& event) {
  if (event.type != "goal.status_changed") return {};
  auto data = ParseMembers(event.data);
  if (!data) return {};
  // Status names are plain identifiers: the JSON string without its quotes.
  const std::string* to = Find(*data, "to");
  if (!to || to->size() < 2 || to->front() != '"' || to->back() != '"') {
    return {};
  }
  return to->substr(1, to->size() - 2);
}

Status WriteGoalHistory(JsonWriter& w, std::string_view goal_id,
                        const std::vector<Event>& events, uint64_t position) {
  std::vector<const Event*> list;
  for (const Event& e : events) {
    if (e.position <= position) list.push_back(&e);
  }
  if (list.empty()) {
    return Error::NotFound("no goal " + std::string(goal_id));
  }
  std::sort(list.begin(), list.end(), [](const Event* a, const Event* b) {
    return a->position < b->position;
  });

  // Corrections: check-in position -> the check-in correcting it.
  std::map<uint64_t, uint64_t> corrected_by;
  std::vector<std::optional<Members>> parsed(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    parsed[i] = ParseMembers(list[i]->data);
    if (list[i]->type != "goal.checked_in" || !parsed[i]) continue;
    if (auto of = ParseUint(Find(*parsed[i], "correction_of"))) {
      corrected_by.try_emplace(*of, list[i]->position);
    }
  }

  std::string last_value = "null";
  std::string last_confidence = "null";
  w.BeginObject();
  w.Key("goal").String(goal_id);
  w.Key("events").BeginArray();
  for (size_t i = 0; i < list.size(); ++i) {
    const Event& e = *list[i];
    const Members empty;
    const Members& data = parsed[i] ? *parsed[i] : empty;
    w.BeginObject();
    w.Key("position").Uint(e.position);
    w.Key("at").String(FormatTime(e.at));
    w.Key("actor").String(e.actor);
    w.Key("type").String(e.type);
    w.Key("version").Uint(e.version);
    w.Key("data").Raw(parsed[i] ? std::string_view(e.data) : "{}");

    std::vector<FieldChange> changes;
    if (e.type == "goal.created" || e.type == "goal.edited") {
      changes = GoalEditChanges(e);
    } else if (e.type == "goal.status_changed") {
      const std::string* f = Find(data, "from");
      const std::string* t = Find(data, "to");
      changes.push_back({"status", f ? *f : "null", t ? *t : "null"});
    } else if (e.type == "goal.checked_in") {
      if (const std::string* v = Find(data, "value")) {
        changes.push_back({"value", last_value, *v});
        last_value = *v;
      }
      if (const std::string* c = Find(data, "confidence")) {
        changes.push_back({"confidence", last_confidence, *c});
        last_confidence = *c;
      }
      if (const std::string* a = Find(data, "at")) {
        changes.push_back({"at", "null", *a});
      }
    } else if (e.type == "goal.decomposed") {
      const std::string* by = Find(data, "by");
      changes.push_back({"split", "null", by ? *by : "null"});
    }
    w.Key("changes").BeginObject();
    for (const FieldChange& c : changes) {
      w.Key(c.field).BeginObject();
      w.Key("from").Raw(c.from);
      w.Key("to").Raw(c.to);
      w.EndObject();
    }
    w.EndObject();

    if (std::string reason = EventReason(e); !reason.empty()) {
      w.Key("reason").String(reason);
    }
    if (e.type == "goal.checked_in") {
      if (auto of = ParseUint(Find(data, "correction_of"))) {
        w.Key("corrects").Uint(*of);
      }
      if (auto it = corrected_by.find(e.position); it != corrected_by.end()) {
        w.Key("corrected_by").Uint(it->second);
      }
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("position").Uint(position);
  w.EndObject();
  return Status::Ok();
}

}  // namespace cairn::projections
