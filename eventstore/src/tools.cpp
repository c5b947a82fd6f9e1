#include "cairn/eventstore/tools.hpp"

#include <simdjson.h>

#include <istream>
#include <ostream>
#include <vector>

#include "cairn/core/json_writer.hpp"

namespace cairn::eventstore {

namespace {

// Events per Import call (one synced write each).
constexpr size_t kImportChunk = 4096;

}  // namespace

int RunVerify(const std::string& path, std::ostream& out) {
  Options o;
  o.path = path;
  o.create_if_missing = false;
  o.read_only = true;
  auto store = EventStore::Open(o);
  if (!store) {
    out << "verify: " << store.error().message << "\n";
    return 1;
  }
  auto rep = (*store)->Verify(
      [&](const std::string& line) { out << "verify: " << line << "\n"; });
  for (const std::string& p : rep.problems)
    out << "verify: problem: " << p << "\n";
  out << "verify: " << rep.events << " events, head " << (*store)->Head()
      << ", epoch " << (*store)->Epoch() << ": " << (rep.ok ? "OK" : "FAILED")
      << "\n";
  return rep.ok ? 0 : 1;
}

Status ExportNdjson(const EventStore& store, uint64_t after,
                    std::ostream& out) {
  JsonWriter w;
  w.BeginObject();
  w.Key("cairn_export").Uint(1);
  w.Key("epoch").String(store.Epoch());
  w.Key("after").Uint(after);
  w.Key("head").Uint(store.Head());
  w.EndObject();
  out << std::move(w).Take() << "\n";
  Status st = store.ReadAll(after, [&](const Event& e) {
    out << EncodeEnvelope(e) << "\n";
    return static_cast<bool>(out);
  });
  if (!st.ok()) return st;
  if (!out) return Error::Internal("export: write failed");
  return Status::Ok();
}

Status ImportNdjson(EventStore& store, std::istream& in,
                    const std::function<void(uint64_t)>& progress) {
  if (store.Head() != 0) {
    return Error::Validation("store", "import needs an empty store");
  }
  std::string line;
  if (!std::getline(in, line)) {
    return Error::Validation("input", "import: empty input");
  }
  std::string epoch;
  uint64_t after = 0;
  {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    uint64_t version = 0;
    std::string_view sv;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(obj) ||
        obj["cairn_export"].get_uint64().get(version) || version != 1 ||
        obj["epoch"].get_string().get(sv)) {
      return Error::Validation("input",
                               "import: line 1 is not a cairn export header");
    }
    epoch = sv;
    if (obj["after"].get_uint64().get(after)) {
      return Error::Validation("input", "import: header lacks `after`");
    }
  }
  std::vector<Event> chunk;
  uint64_t count = 0, line_no = 1;
  auto flush = [&]() -> Status {
    if (chunk.empty()) return Status::Ok();
    Status st = store.Import(chunk);
    if (!st.ok()) return st;
    count += chunk.size();
    chunk.clear();
    if (progress) progress(count);
    return Status::Ok();
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto e = DecodeEnvelope(line);
    if (!e) {
      return Error::Validation(
          "input",
          "import: line " + std::to_string(line_no) + ": " + e.error().message);
    }
    chunk.push_back(std::move(*e));
    if (chunk.size() >= kImportChunk) {
      Status st = flush();
      if (!st.ok()) return st;
    }
  }
  Status st = flush();
  if (!st.ok()) return st;
  // A full export carries the history's name; a partial one cannot.
  if (after == 0 && !epoch.empty()) return store.SetEpoch(epoch);
  return Status::Ok();
}

Status RunBackup(const std::string& path, const std::string& dir) {
  Options o;
  o.path = path;
  o.create_if_missing = false;
  auto store = EventStore::Open(o);
  if (!store) return store.error();
  return (*store)->Backup(dir);
}

}  // namespace cairn::eventstore
