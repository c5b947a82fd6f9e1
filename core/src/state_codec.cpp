#include "cairn/core/state_codec.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace cairn {
namespace {

constexpr char kMagic[3] = {'C', 'S', 'T'};             // check-ins included
constexpr char kMagicByReference[3] = {'C', 'S', 'R'};  // counts only

class Writer {
 public:
  Writer(std::string& out, SnapshotHistory history)
      : out_(out), history_(history) {}

  SnapshotHistory history() const { return history_; }

  void U64(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void I64(int64_t v) {
    U64((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void F64(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(bits >> (8 * i));
    out_.append(b, 8);
  }
  void Bool(bool b) { out_.push_back(b ? 1 : 0); }
  void Str(const std::string& s) {
    U64(s.size());
    out_.append(s);
  }
  template <typename E>
  void Enum(E e) {
    U64(static_cast<uint64_t>(e));
  }
  void OptF64(const std::optional<double>& d) {
    Bool(d.has_value());
    if (d) F64(*d);
  }
  void StrList(const std::vector<std::string>& v) {
    U64(v.size());
    for (const auto& s : v) Str(s);
  }
  void Raw(std::string_view bytes) { out_.append(bytes); }

 private:
  std::string& out_;
  const SnapshotHistory history_;
};

// Reads what Writer wrote. Every read checks bounds; the first failure
// sticks (ok() turns false and later reads return zero values).
class Reader {
 public:
  // `history`: where a kByReference snapshot's check-ins come from (null
  // for a kIncluded one).
  Reader(std::string_view in, const State* history, unsigned version)
      : in_(in), history_(history), version_(version) {
    if (history_ != nullptr) {
      source_ = history_->goals.begin();
      source_metric_ = history_->metrics.begin();
    }
  }

  bool by_reference() const { return history_ != nullptr; }
  // Format 3 on: each goal and metric is preceded by its length in bytes.
  bool sized() const { return version_ >= 3; }
  // Format 4 on: a check-in ends with the position it corrects.
  bool corrections() const { return version_ >= 4; }
  unsigned version() const { return version_; }
  // A by-reference snapshot's position (read first).
  uint64_t position() const { return position_; }
  void set_position(uint64_t p) { position_ = p; }
  // Looks entities of the history source up by key instead of walking a
  // cursor: for a partial decode, which takes few of them.
  void set_sparse() { sparse_ = true; }
  // The metric `id` of the history source, or null (cursor as for goals).
  const Metric* SourceMetric(const std::string& id) {
    if (sparse_) return history_->FindMetric(id);
    const auto end = history_->metrics.end();
    while (source_metric_ != end && source_metric_->first < id) {
      ++source_metric_;
    }
    if (source_metric_ == end || source_metric_->first != id) return nullptr;
    return &source_metric_->second;
  }
  // The goal `id` of the history source, or null. Goals are decoded in key
  // order, so the cursor only moves forward.
  const Goal* SourceGoal(const std::string& id) {
    if (sparse_) return history_->FindGoal(id);
    const auto end = history_->goals.end();
    while (source_ != end && source_->first < id) ++source_;
    if (source_ == end || source_->first != id) return nullptr;
    return &source_->second;
  }

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  size_t Tell() const { return pos_; }
  // Back to a place Tell() gave.
  void Seek(size_t pos) { pos_ = pos <= in_.size() ? pos : in_.size(); }
  void Skip(uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      Fail("length past the end");
      return;
    }
    pos_ += n;
  }
  // A string without copying it: valid as long as the input.
  std::string_view View() {
    uint64_t n = U64();
    if (!ok_ || n > in_.size() - pos_) {
      Fail("string past the end");
      return {};
    }
    std::string_view v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  const std::string& why() const { return why_; }
  void Fail(std::string why) {
    if (ok_) why_ = std::move(why);
    ok_ = false;
  }

  uint64_t U64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok_ || pos_ >= in_.size()) {
        Fail("truncated varint");
        return 0;
      }
      auto b = static_cast<unsigned char>(in_[pos_++]);
      if (shift == 63 && b > 1) {
        Fail("varint overflow");
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    Fail("varint too long");
    return 0;
  }
  int64_t I64() {
    uint64_t u = U64();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  int32_t I32() {
    int64_t v = I64();
    if (v < std::numeric_limits<int32_t>::min() ||
        v > std::numeric_limits<int32_t>::max()) {
      Fail("int32 out of range");
      return 0;
    }
    return static_cast<int32_t>(v);
  }
  double F64() {
    if (!ok_ || in_.size() - pos_ < 8) {
      Fail("truncated double");
      return 0;
    }
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) {
      bits |= static_cast<uint64_t>(static_cast<unsigned char>(in_[pos_ + i]))
              << (8 * i);
    }
    pos_ += 8;
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  bool Bool() {
    if (!ok_ || pos_ >= in_.size()) {
      Fail("truncated bool");
      return false;
    }
    auto b = static_cast<unsigned char>(in_[pos_++]);
    if (b > 1) Fail("bad bool");
    return b == 1;
  }
  void Str(std::string& s) {
    uint64_t n = U64();
    if (!ok_ || n > in_.size() - pos_) {
      Fail("string past the end");
      return;
    }
    s.assign(in_.data() + pos_, n);
    pos_ += n;
  }
  std::string Str() {
    std::string s;
    Str(s);
    return s;
  }
  // A count of elements, each at least one byte long.
  uint64_t Count() {
    uint64_t n = U64();
    if (!ok_ || n > in_.size() - pos_) {
      Fail("count past the end");
      return 0;
    }
    return n;
  }
  template <typename E>
  E Enum(E last) {
    uint64_t v = U64();
    if (v > static_cast<uint64_t>(last)) {
      Fail("enum out of range");
      return E{};
    }
    return static_cast<E>(v);
  }
  std::optional<double> OptF64() {
    if (!Bool()) return std::nullopt;
    return F64();
  }
  std::vector<std::string> StrList() {
    std::vector<std::string> v(Count());
    for (auto& s : v) {
      Str(s);
      if (!ok_) break;
    }
    return v;
  }

 private:
  std::string_view in_;
  const State* history_;
  unsigned version_;
  bool sparse_ = false;
  std::map<std::string, Goal>::const_iterator source_;
  std::map<std::string, Metric>::const_iterator source_metric_;
  uint64_t position_ = 0;
  size_t pos_ = 0;
  bool ok_ = true;
  std::string why_;
};

// ------------------------------------------------------------------ encode

void Put(Writer& w, const Unit& u) {
  w.Str(u.id);
  w.Str(u.name);
  w.Enum(u.kind);
  w.Str(u.parent);
  w.StrList(u.children);
  w.U64(u.version);
  w.U64(u.position);
}

void Put(Writer& w, const Cycle& c) {
  w.Str(c.id);
  w.Str(c.name);
  w.Enum(c.kind);
  w.I64(c.start);
  w.I64(c.end);
  w.Str(c.parent);
  w.Bool(c.closed);
  w.I64(c.closed_at);
  w.U64(c.version);
  w.U64(c.position);
}

void Put(Writer& w, const Measure& m) {
  w.F64(m.start);
  w.F64(m.target);
  w.OptF64(m.stretch);
  w.Enum(m.direction);
  w.Str(m.unit);
  w.Str(m.metric);
  w.Enum(m.aggregate);
}

void Put(Writer& w, const CheckIn& c) {
  w.U64(c.position);
  w.I64(c.at);
  w.I64(c.recorded_at);
  w.OptF64(c.value);
  w.Bool(c.confidence.has_value());
  if (c.confidence) w.I64(*c.confidence);
  w.Str(c.note);
  w.Str(c.actor);
  w.U64(c.corrects);
}

void Put(Writer& w, const Goal& g) {
  w.Str(g.id);
  w.Enum(g.kind);
  w.Str(g.title);
  w.Str(g.description);
  w.Str(g.unit);
  w.Str(g.cycle);
  w.Str(g.owner);
  w.Str(g.parent);
  w.StrList(g.children);
  w.F64(g.weight);
  w.Bool(g.committed);
  w.Enum(g.perspective);
  w.Bool(g.due.has_value());
  if (g.due) w.I64(*g.due);
  w.Bool(g.measure.has_value());
  if (g.measure) Put(w, *g.measure);
  w.Enum(g.status);
  w.U64(g.check_ins.size());
  if (w.history() == SnapshotHistory::kByReference) {
    // Enough to find the same check-ins in a later State and to be sure
    // they are the same: positions are unique and check-ins only append.
    if (!g.check_ins.empty()) w.U64(g.check_ins.back().position);
  } else {
    for (const CheckIn& c : g.check_ins) Put(w, c);
  }
  w.Enum(g.split);
  w.Str(g.split_from);
  w.OptF64(g.frozen_grade);
  w.I64(g.created_at);
  w.Str(g.created_by);
  w.U64(g.version);
  w.U64(g.position);
}

void Put(Writer& w, const Metric& m) {
  w.Str(m.id);
  w.Str(m.name);
  w.Str(m.unit);
  w.Enum(m.aggregate);
  w.U64(m.points.size());
  if (w.history() == SnapshotHistory::kIncluded) {
    for (const MetricPoint& p : m.points) {
      w.I64(p.ts);
      w.F64(p.value);
      w.U64(p.position);
    }
  }
  w.U64(m.version);
  w.U64(m.position);
}

void Put(Writer& w, const Token& t) {
  w.Str(t.name);
  w.Enum(t.role);
  w.Str(t.unit);
  w.Str(t.secret_hash);
  w.Bool(t.revoked);
  w.U64(t.version);
}

void Put(Writer& w, const RetroNote& n) {
  w.Str(n.unit);
  w.Str(n.cycle);
  w.Str(n.goal);
  w.Enum(n.kind);
  w.Str(n.text);
  w.Str(n.actor);
  w.I64(n.at);
  w.U64(n.position);
}

template <typename T>
void PutMap(Writer& w, const std::map<std::string, T>& m) {
  w.U64(m.size());
  for (const auto& [key, value] : m) {
    w.Str(key);
    Put(w, value);
  }
}

// Goals and metrics: each one's length in bytes before it, so that a
// partial decode steps over the ones it leaves out.
template <typename T>
void PutSizedMap(Writer& w, const std::map<std::string, T>& m) {
  w.U64(m.size());
  std::string body;
  for (const auto& [key, value] : m) {
    w.Str(key);
    body.clear();
    Writer bw(body, w.history());
    Put(bw, value);
    w.U64(body.size());
    w.Raw(body);
  }
}

// ------------------------------------------------------------------ decode

void Get(Reader& r, Unit& u) {
  r.Str(u.id);
  r.Str(u.name);
  u.kind = r.Enum(UnitKind::kPerson);
  r.Str(u.parent);
  u.children = r.StrList();
  u.version = r.U64();
  u.position = r.U64();
}

void Get(Reader& r, Cycle& c) {
  r.Str(c.id);
  r.Str(c.name);
  c.kind = r.Enum(CycleKind::kCustom);
  c.start = r.I32();
  c.end = r.I32();
  r.Str(c.parent);
  c.closed = r.Bool();
  c.closed_at = r.I64();
  c.version = r.U64();
  c.position = r.U64();
}

void Get(Reader& r, Measure& m) {
  m.start = r.F64();
  m.target = r.F64();
  m.stretch = r.OptF64();
  m.direction = r.Enum(Direction::kBinary);
  r.Str(m.unit);
  r.Str(m.metric);
  m.aggregate = r.Enum(Aggregate::kMax);
}

void Get(Reader& r, CheckIn& c) {
  c.position = r.U64();
  c.at = r.I64();
  c.recorded_at = r.I64();
  c.value = r.OptF64();
  if (r.Bool()) {
    int64_t v = r.I64();
    if (v < std::numeric_limits<int>::min() ||
        v > std::numeric_limits<int>::max()) {
      r.Fail("confidence out of range");
    } else {
      c.confidence = static_cast<int>(v);
    }
  }
  r.Str(c.note);
  r.Str(c.actor);
  c.corrects = r.U64();
}

void Get(Reader& r, Goal& g) {
  r.Str(g.id);
  g.kind = r.Enum(GoalKind::kInitiative);
  r.Str(g.title);
  r.Str(g.description);
  r.Str(g.unit);
  r.Str(g.cycle);
  r.Str(g.owner);
  r.Str(g.parent);
  g.children = r.StrList();
  g.weight = r.F64();
  g.committed = r.Bool();
  g.perspective = r.Enum(Perspective::kLearning);
  if (r.Bool()) g.due = r.I32();
  if (r.Bool()) Get(r, g.measure.emplace());
  g.status = r.Enum(GoalStatus::kArchived);
  if (r.by_reference()) {
    const uint64_t n = r.U64();
    const uint64_t last = n > 0 ? r.U64() : 0;
    if (!r.ok()) return;
    const Goal* source = r.SourceGoal(g.id);
    if (n > 0 && (source == nullptr || source->check_ins.size() < n ||
                  source->check_ins[n - 1].position != last)) {
      r.Fail("the history source does not hold goal " + g.id +
             "'s check-ins up to position " + std::to_string(last));
      return;
    }
    if (n > 0) {
      g.check_ins = source->check_ins;  // shares its chunks
      g.check_ins.truncate(n);
      g.check_ins_in_order =
          std::min(source->check_ins_in_order, static_cast<size_t>(n));
      if (source->corrections > 0) g.corrections = CountCorrections(g);
    }
  } else if (!r.corrections()) {
    // Formats 2 and 3 kept no corrections: such a snapshot that holds
    // check-ins is not used (the log is replayed instead).
    if (r.Count() > 0) {
      r.Fail("check-ins of format " + std::to_string(r.version()) +
             " lack their corrections");
      return;
    }
  } else {
    for (uint64_t n = r.Count(); n > 0 && r.ok(); --n) {
      CheckIn c;
      Get(r, c);
      AppendCheckIn(g, std::move(c));
    }
  }
  g.split = r.Enum(SplitBy::kFunnel);
  r.Str(g.split_from);
  g.frozen_grade = r.OptF64();
  g.created_at = r.I64();
  r.Str(g.created_by);
  g.version = r.U64();
  g.position = r.U64();
}

void Get(Reader& r, Metric& m) {
  r.Str(m.id);
  r.Str(m.name);
  r.Str(m.unit);
  m.aggregate = r.Enum(Aggregate::kMax);
  if (r.by_reference()) {
    // The source's points recorded at or before the snapshot, in the
    // source's (time) order; the part before the first later one is
    // shared as is.
    const uint64_t n = r.U64();
    if (!r.ok()) return;
    const Metric* source = r.SourceMetric(m.id);
    if (source != nullptr) {
      const Chunked<MetricPoint>& all = source->points;
      const uint64_t limit = r.position();
      auto later = [limit](const MetricPoint& p) { return p.position > limit; };
      auto earlier = [limit](const MetricPoint& p) {
        return p.position <= limit;
      };
      size_t i = all.find_if(0, later);
      m.points = all;
      m.points.truncate(i);
      while ((i = all.find_if(i, earlier)) < all.size()) {
        m.points.push_back(all[i++]);
      }
    }
    if (m.points.size() != n) {
      r.Fail("the history source does not hold metric " + m.id +
             "'s points up to the snapshot");
      return;
    }
  } else {
    for (uint64_t n = r.Count(); n > 0 && r.ok(); --n) {
      MetricPoint p;
      p.ts = r.I64();
      p.value = r.F64();
      p.position = r.U64();
      m.points.push_back(p);
    }
  }
  m.version = r.U64();
  m.position = r.U64();
}

void Get(Reader& r, Token& t) {
  r.Str(t.name);
  t.role = r.Enum(Role::kAdmin);
  r.Str(t.unit);
  r.Str(t.secret_hash);
  t.revoked = r.Bool();
  t.version = r.U64();
}

void Get(Reader& r, RetroNote& n) {
  r.Str(n.unit);
  r.Str(n.cycle);
  r.Str(n.goal);
  n.kind = r.Enum(RetroNoteKind::kAction);
  r.Str(n.text);
  r.Str(n.actor);
  n.at = r.I64();
  n.position = r.U64();
}

// Decodes one entity in place at the end of `m` (keys come in order: no
// move of a large entity per key); `size` is its length in bytes when the
// format gives one, checked.
template <typename T>
void GetEntry(Reader& r, std::map<std::string, T>& m, std::string key,
              std::optional<uint64_t> size) {
  const size_t start = r.Tell();
  auto it = m.emplace_hint(m.end(), std::piecewise_construct,
                           std::forward_as_tuple(std::move(key)),
                           std::forward_as_tuple());
  Get(r, it->second);
  if (size && r.ok() && r.Tell() - start != *size) {
    r.Fail("an entity's length does not match its contents");
  }
}

// Keys were written in order; anything else is not our encoding.
template <typename T>
bool InOrder(Reader& r, const std::map<std::string, T>& m,
             std::string_view key) {
  if (!m.empty() && !(std::prev(m.end())->first < key)) {
    r.Fail("map keys out of order");
    return false;
  }
  return true;
}

template <typename T>
void GetMap(Reader& r, std::map<std::string, T>& m, bool sized = false) {
  uint64_t n = r.Count();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string key = r.Str();
    std::optional<uint64_t> size;
    if (sized) size = r.Count();
    if (!r.ok() || !InOrder(r, m, key)) break;
    GetEntry(r, m, std::move(key), size);
  }
}

}  // namespace

std::string EncodeState(const State& state, SnapshotHistory history) {
  std::string out;
  out.reserve(4096);
  out.append(
      history == SnapshotHistory::kByReference ? kMagicByReference : kMagic,
      sizeof kMagic);
  out.push_back(static_cast<char>(kStateCodecVersion));
  Writer w(out, history);
  // By reference: the position first, which decoding filters points by.
  if (history == SnapshotHistory::kByReference) w.U64(state.position);
  PutMap(w, state.units);
  PutMap(w, state.cycles);
  PutSizedMap(w, state.goals);
  PutSizedMap(w, state.metrics);
  PutMap(w, state.tokens);
  w.U64(state.retro_notes.size());
  for (const RetroNote& n : state.retro_notes) Put(w, n);
  w.U64(state.position);
  w.I64(state.at);
  return out;
}

bool NeedsHistorySource(std::string_view bytes) {
  return bytes.size() >= 4 &&
         std::memcmp(bytes.data(), kMagicByReference, 3) == 0;
}

namespace {

Error Corrupt(std::string why) {
  return Error{ErrorCode::kCorruption, "state snapshot: " + std::move(why), {}};
}

// Checks the magic and version; a Reader past them (and past a
// by-reference snapshot's position).
Result<Reader> Open(std::string_view bytes, const State* history_source) {
  const bool by_reference = NeedsHistorySource(bytes);
  if (bytes.size() < 4 ||
      (!by_reference && std::memcmp(bytes.data(), kMagic, 3) != 0)) {
    return Corrupt("bad magic");
  }
  if (by_reference && history_source == nullptr) {
    return Corrupt("its check-ins are by reference and no State holds them");
  }
  const auto version = static_cast<unsigned char>(bytes[3]);
  if (version < kOldestStateCodecVersion || version > kStateCodecVersion) {
    return Corrupt("unknown format version " + std::to_string(version));
  }
  Reader r(bytes.substr(4), by_reference ? history_source : nullptr, version);
  if (by_reference) r.set_position(r.U64());
  return r;
}

// What follows the metrics, and the end checks.
Result<State> Finish(Reader& r, State& state) {
  GetMap(r, state.tokens);
  state.token_index.Rebuild(state.tokens);
  state.retro_notes.resize(r.Count());
  for (RetroNote& n : state.retro_notes) {
    Get(r, n);
    if (!r.ok()) break;
  }
  state.position = r.U64();
  state.at = r.I64();
  if (!r.ok()) return Corrupt(r.why());
  if (!r.at_end()) return Corrupt("trailing bytes");
  if (r.by_reference() && state.position != r.position()) {
    return Corrupt("positions at the start and the end differ");
  }
  return std::move(state);
}

// A goal's place in the bytes, and its unit.
struct GoalEntry {
  std::string_view key;
  size_t at = 0;  // where its encoding starts
  uint64_t size = 0;
  std::string_view unit;
};

// Reads the leading fields of a goal's encoding (Put(Writer&, const Goal&))
// up to its unit, without copying them.
std::string_view SkimUnit(Reader& r) {
  r.View();  // id
  r.U64();   // kind
  r.View();  // title
  r.View();  // description
  return r.View();
}

// Then its child ids, into `out`.
void SkimChildren(Reader& r, std::vector<std::string_view>& out) {
  r.View();  // cycle
  r.View();  // owner
  r.View();  // parent
  out.resize(r.Count());
  for (std::string_view& c : out) c = r.View();
}

}  // namespace

Result<State> DecodeState(std::string_view bytes, const State* history_source) {
  Result<Reader> opened = Open(bytes, history_source);
  if (!opened.ok()) return opened.error();
  Reader& r = *opened;
  State state;
  GetMap(r, state.units);
  GetMap(r, state.cycles);
  GetMap(r, state.goals, r.sized());
  GetMap(r, state.metrics, r.sized());
  return Finish(r, state);
}

Result<State> DecodePartialState(std::string_view bytes,
                                 const State* history_source,
                                 const UnitsOf& units_of, PartialInfo& info) {
  Result<Reader> opened = Open(bytes, history_source);
  if (!opened.ok()) return opened.error();
  Reader& r = *opened;
  if (!r.sized()) {
    // An older format cannot step over goals: the whole, then the part.
    Result<State> whole = DecodeState(bytes, history_source);
    if (!whole.ok()) return whole.error();
    return PartialCopy(*whole, units_of, info);
  }
  if (r.by_reference()) r.set_sparse();
  State state;
  GetMap(r, state.units);
  GetMap(r, state.cycles);
  if (!r.ok()) return Corrupt(r.why());
  info = PartialInfoOf(state, units_of);

  // Every goal's place and unit (in key order); the goals of the units
  // picked and those below them; then those decoded.
  std::vector<GoalEntry> goals(r.Count());
  std::vector<std::string_view> seeds;
  for (size_t i = 0; i < goals.size(); ++i) {
    GoalEntry& e = goals[i];
    e.key = r.View();
    e.size = r.Count();
    e.at = r.Tell();
    if (!r.ok()) break;
    if (i > 0 && !(goals[i - 1].key < e.key)) {
      r.Fail("map keys out of order");
      break;
    }
    e.unit = SkimUnit(r);
    if (!r.ok() || r.Tell() - e.at > e.size) {
      r.Fail("a goal's length does not match its contents");
      break;
    }
    if (info.units.count(std::string(e.unit)) > 0) seeds.push_back(e.key);
    r.Seek(e.at);
    r.Skip(e.size);
  }
  if (!r.ok()) return Corrupt(r.why());
  const size_t metrics_at = r.Tell();
  auto find = [&](std::string_view id) -> const GoalEntry* {
    auto it = std::lower_bound(
        goals.begin(), goals.end(), id,
        [](const GoalEntry& e, std::string_view k) { return e.key < k; });
    return it == goals.end() || it->key != id ? nullptr : &*it;
  };
  std::vector<std::string_view> children;
  auto kept = detail::GoalsBelow(
      std::move(seeds),
      [&](std::string_view id) -> const std::vector<std::string_view>* {
        const GoalEntry* e = find(id);
        if (e == nullptr) return nullptr;
        r.Seek(e->at);
        SkimUnit(r);
        SkimChildren(r, children);
        return &children;
      });
  if (!r.ok()) return Corrupt(r.why());
  std::vector<const GoalEntry*> order;
  order.reserve(kept.size());
  for (std::string_view id : kept) {
    if (const GoalEntry* e = find(id)) order.push_back(e);
  }
  std::sort(order.begin(), order.end());  // key order, as Get expects
  std::unordered_set<std::string_view> bound;
  for (const GoalEntry* e : order) {
    r.Seek(e->at);
    GetEntry(r, state.goals, std::string(e->key), e->size);
    if (!r.ok()) return Corrupt(r.why());
    const Goal& g = std::prev(state.goals.end())->second;
    if (g.measure && !g.measure->metric.empty()) {
      bound.insert(g.measure->metric);
    }
  }

  // The metrics the kept goals are bound to.
  r.Seek(metrics_at);
  uint64_t n = r.Count();
  std::string_view previous;
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string_view key = r.View();
    const uint64_t size = r.Count();
    if (!r.ok()) break;
    if (i > 0 && !(previous < key)) {
      r.Fail("map keys out of order");
      break;
    }
    previous = key;
    if (bound.count(key) > 0) {
      GetEntry(r, state.metrics, std::string(key), size);
    } else {
      info.metrics_left_out.emplace(key);
      r.Skip(size);
    }
  }
  return Finish(r, state);
}

}  // namespace cairn
