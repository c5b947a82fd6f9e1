// EventStore on RocksDB: group commit by a leader among the callers, state
// derived from the data on open, a thread per subscription.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "cairn/eventstore/event_store.hpp"
#include "cairn/eventstore/write_faults.hpp"
#include "fault_fs.hpp"
#include "key_codec.hpp"
#include "rocks_status.hpp"
#include "stored_event.hpp"

namespace cairn::eventstore {

namespace {

constexpr uint64_t kSchemaVersion = 1;
// Longest idempotency key accepted. Default: 256 bytes.
constexpr size_t kMaxKeyBytes = 256;
// Longest event type and actor accepted. Default: 256 bytes.
constexpr size_t kMaxNameBytes = 256;

enum Cf { kDefault, kEvents, kStreams, kIds, kMeta, kSnapshots, kCfCount };

// The stream of a `streams` key (keys::Stream: the name, 0x00, the version),
// through its 0x00. The write buffer keeps one insert position per stream,
// so the next version of a stream goes in next to the last (RocksDB's
// memtable_insert_with_hint_prefix_extractor). Affects inserts only: no
// read, file or filter depends on it.
class StreamOfKey final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "cairn.StreamOfKey"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* nul = std::memchr(key.data(), '\0', key.size());
    return {
        key.data(),
        static_cast<size_t>(static_cast<const char*>(nul) - key.data()) + 1};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), '\0', key.size()) != nullptr;
  }
};
std::vector<std::string> CfNames() {
  return {rocksdb::kDefaultColumnFamilyName,
          "events",
          "streams",
          "ids",
          "meta",
          "snapshots"};
}

Error Corrupt(std::string msg) {
  return Error{ErrorCode::kCorruption, std::move(msg), {}};
}

Error Unavailable(std::string msg) {
  return Error{ErrorCode::kUnavailable, std::move(msg), {}};
}

// The identity of the folder a store lives in: canonical path, device and
// inode. A copy (restored backup) has another one.
std::string FolderIdentity(const std::string& path) {
  std::error_code ec;
  std::filesystem::path canon = std::filesystem::canonical(path, ec);
  std::string id = ec ? path : canon.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    id += "|" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
  return id;
}

class EventStoreImpl;

struct SubState {
  std::atomic<bool> stop{false};
  std::thread thread;
  std::mutex join_mu;
  // Cleared (under join_mu) by the store's destructor, so that a
  // Subscription outliving its store cancels as a no-op.
  EventStoreImpl* store = nullptr;
};

class EventStoreImpl;

class SubscriptionImpl final : public Subscription {
 public:
  explicit SubscriptionImpl(std::shared_ptr<SubState> state)
      : state_(std::move(state)) {}
  ~SubscriptionImpl() override { Cancel(); }
  void Cancel() override;

 private:
  std::shared_ptr<SubState> state_;
};

// One Append/AppendMany call waiting in the group-commit queue.
struct Pending {
  const AppendRequest* requests = nullptr;
  size_t count = 0;
  std::vector<Result<AppendResult>> results;
  bool done = false;
};

// What a group has decided so far, before its write lands.
struct Group {
  uint64_t head = 0;
  std::string hash;
  Millis clock = 0;  // the store's clock for requests without an `at`
  Millis at = 0;     // the `at` of the group's last accepted event
  rocksdb::WriteBatch batch;
  std::unordered_map<std::string, uint64_t> versions;  // streams touched
  std::unordered_map<std::string, uint64_t> ids;       // new event ids
  struct KeyRecord {
    uint64_t first = 0;
    uint64_t count = 0;
    std::string reply;
  };
  std::unordered_map<std::string, KeyRecord> keys;  // new idempotency keys
  std::map<uint64_t, Event> events;                 // new events
};

class EventStoreImpl final : public EventStore {
 public:
  explicit EventStoreImpl(Options options) : opts_(std::move(options)) {}
  ~EventStoreImpl() override;

  Status Init();

  Result<AppendResult> Append(const AppendRequest& request) override;
  std::vector<Result<AppendResult>> AppendMany(
      const std::vector<AppendRequest>& requests) override;
  Status ReadAll(uint64_t after, const EventVisitor& visitor) const override;
  Result<std::vector<Event>> ReadStream(const std::string& stream,
                                        uint64_t from, bool backward,
                                        size_t limit) const override;
  Result<Event> ReadAt(uint64_t position) const override;
  uint64_t PositionAtOrBefore(Millis t) const override;
  uint64_t Head() const override {
    return head_.load(std::memory_order_acquire);
  }
  uint64_t StreamVersion(const std::string& stream) const override;
  uint64_t MemtableBytes() const override;
  std::optional<uint64_t> FindId(const std::string& id) const override;
  std::string Epoch() const override {
    std::lock_guard lock(epoch_mu_);
    return epoch_;
  }
  std::unique_ptr<Subscription> Subscribe(uint64_t after,
                                          EventVisitor on_event) override;
  Status PutSnapshot(uint64_t position, const std::string& bytes,
                     uint8_t series) override;
  std::optional<std::pair<uint64_t, std::string>> LatestSnapshot(
      uint64_t max_position, uint8_t series) const override;
  Status DeleteSnapshots(uint8_t series, uint64_t below) override;
  Status Backup(const std::string& dir) override;
  VerifyReport Verify(
      const std::function<void(const std::string&)>& progress) const override;
  Status Import(const std::vector<Event>& events) override;
  Status SetEpoch(const std::string& epoch) override;

  // With s->join_mu held.
  void CancelLocked(SubState* s);

 private:
  void Submit(Pending* p);
  void RunGroup(std::vector<Pending*>& group);
  Result<AppendResult> Decide(const AppendRequest& r, Group& g, bool* appended);
  Result<AppendResult> Duplicate(uint64_t first, uint64_t count,
                                 std::string reply, const Group& g) const;
  // With db_mu_ held (shared or exclusive):
  Result<Event> EventAt(uint64_t position, const Group* g) const;
  Result<Event> ReadAtLocked(uint64_t position) const;
  Status ReadAllLocked(uint64_t after, const EventVisitor& visitor) const;
  uint64_t CurrentVersion(const std::string& stream, const Group& g) const;
  std::optional<uint64_t> LookupId(const std::string& key) const;
  Status OpenDb();
  void CloseDb();
  Status LoadState();
  Status RecoverIfNeeded();
  bool SpaceAvailable();
  Status Write(rocksdb::WriteBatch* batch);
  void Publish(uint64_t head);
  void SubscriptionLoop(SubState* s, uint64_t after, EventVisitor cb);

  Options opts_;
  std::shared_ptr<rocksdb::FileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  // Readers hold db_mu_ shared; only recovery after a write error (which
  // reopens the DB) holds it exclusively. db_ is null only when that reopen
  // failed: reads then fail with kUnavailable until a write recovers.
  mutable std::shared_mutex db_mu_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_;

  // Group commit: callers queue; one of them at a time leads a group.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending*> queue_;
  bool leading_ = false;

  // Writer state: changed only by the leader (or Import) under write_mu_.
  std::mutex write_mu_;
  std::string last_hash_{kGenesisHash};
  Millis last_at_ = 0;
  bool needs_recovery_ = false;
  IdGenerator id_gen_;

  mutable std::shared_mutex versions_mu_;
  std::unordered_map<std::string, uint64_t> versions_;
  std::atomic<uint64_t> head_{0};

  mutable std::mutex epoch_mu_;
  std::string epoch_;

  // Subscriptions wait here for the head to move.
  std::mutex notify_mu_;
  std::condition_variable notify_cv_;
  std::mutex subs_mu_;
  std::vector<std::shared_ptr<SubState>> subs_;
};

// ---------------------------------------------------------------- open

Status EventStoreImpl::OpenDb() {
  rocksdb::Options o;
  o.create_if_missing = opts_.create_if_missing;
  o.create_missing_column_families = true;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 4;
  if (opts_.faults) {
    if (!fs_) {
      fs_ = NewFaultFileSystem(opts_.faults);
      env_ = rocksdb::NewCompositeEnv(fs_);
    }
    o.env = env_.get();
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& name : CfNames()) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions(o));
  }
  // Writes touch many streams at once, each at its end: without a hint per
  // stream every insert searches the write buffer's skiplist from the top,
  // which was a third of the committer's CPU under check-ins on 128 goals.
  static const auto kStreamHint = std::make_shared<const StreamOfKey>();
  cfs[kStreams].options.memtable_insert_with_hint_prefix_extractor =
      kStreamHint;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  cf_.clear();
  if (opts_.read_only) {
    s = rocksdb::DB::OpenForReadOnly(o, opts_.path, cfs, &cf_, &raw);
  } else {
    s = rocksdb::DB::Open(o, opts_.path, cfs, &cf_, &raw);
  }
  if (!s.ok()) {
    return Unavailable("cannot open event store at " + opts_.path + ": " +
                       s.ToString());
  }
  db_.reset(raw);
  return Status::Ok();
}

void EventStoreImpl::CloseDb() {
  if (!db_) return;
  for (auto* h : cf_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  cf_.clear();
  db_->Close().PermitUncheckedError();
  db_.reset();
}

Status EventStoreImpl::LoadState() {
  uint64_t head = 0;
  std::string hash(kGenesisHash);
  Millis at = 0;
  // Head, last hash and time, from the last event.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kEvents]));
    it->SeekToLast();
    if (!it->status().ok()) return ReadError(it->status(), "open");
    if (it->Valid()) {
      uint64_t pos = keys::GetBE64(it->key().ToStringView());
      auto e = DecodeStored(it->value().ToStringView());
      if (!e) {
        return Corrupt("last event does not decode: " + e.error().message);
      }
      if (e->position != pos) {
        return Corrupt("event at key " + std::to_string(pos) +
                       " says position " + std::to_string(e->position));
      }
      head = pos;
      hash = e->hash;
      at = e->at;
    }
  }
  // Stream versions: the last key of each stream, one seek per stream.
  std::unordered_map<std::string, uint64_t> versions;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kStreams]));
    it->SeekToFirst();
    while (it->Valid()) {
      std::string_view k = it->key().ToStringView();
      size_t nul = k.find('\0');
      if (nul == std::string_view::npos) return Corrupt("bad streams key");
      std::string stream(k.substr(0, nul));
      it->SeekForPrev(keys::StreamEnd(stream));
      if (!it->Valid()) return Corrupt("streams index moved under open");
      versions[stream] =
          keys::GetBE64(it->key().ToStringView().substr(nul + 1));
      it->Seek(keys::StreamEnd(stream));
    }
    if (!it->status().ok()) return ReadError(it->status(), "open");
  }
  {
    std::unique_lock vlock(versions_mu_);
    versions_.swap(versions);
  }
  last_hash_ = hash;
  last_at_ = at;
  Publish(head);
  return Status::Ok();
}

Status EventStoreImpl::Init() {
  Status st = OpenDb();
  if (!st.ok()) return st;
  rocksdb::Status s;
  // Schema.
  std::string value;
  s = db_->Get({}, cf_[kMeta], keys::kMetaSchema, &value);
  bool fresh = s.IsNotFound();
  if (!s.ok() && !fresh) return ReadError(s, "read meta");
  if (!fresh) {
    uint64_t v = std::strtoull(value.c_str(), nullptr, 10);
    if (v > kSchemaVersion) {
      return Corrupt("event store at " + opts_.path +
                     " was written by schema version " + value +
                     "; this build reads schema versions up to " +
                     std::to_string(kSchemaVersion) + ": upgrade cairn");
    }
  }

  st = LoadState();
  if (!st.ok()) return st;

  // Epoch and identity.
  std::string epoch, identity;
  s = db_->Get({}, cf_[kMeta], keys::kMetaEpoch, &epoch);
  if (!s.ok() && !s.IsNotFound()) return ReadError(s, "read meta");
  s = db_->Get({}, cf_[kMeta], keys::kMetaIdentity, &identity);
  if (!s.ok() && !s.IsNotFound()) return ReadError(s, "read meta");
  std::string here = FolderIdentity(opts_.path);
  if (!opts_.read_only) {
    rocksdb::WriteBatch b;
    if (fresh)
      b.Put(cf_[kMeta], keys::kMetaSchema, std::to_string(kSchemaVersion));
    if (epoch.empty() || identity != here) {
      // Created empty, or opened first at a new place (a restored backup).
      epoch = NewEpoch();
      b.Put(cf_[kMeta], keys::kMetaEpoch, epoch);
      b.Put(cf_[kMeta], keys::kMetaIdentity, here);
    }
    if (b.Count() > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = db_->Write(wo, &b);
      if (!s.ok()) return WriteError(s);
    }
  }
  epoch_ = epoch;
  return Status::Ok();
}

EventStoreImpl::~EventStoreImpl() {
  std::vector<std::shared_ptr<SubState>> subs;
  {
    std::lock_guard lock(subs_mu_);
    subs.swap(subs_);
  }
  for (auto& s : subs) {
    std::lock_guard jl(s->join_mu);
    CancelLocked(s.get());
    if (s->thread.joinable()) s->thread.join();  // also self-cancelled ones
    s->store = nullptr;
  }
  CloseDb();
}

// ---------------------------------------------------------------- append

Result<AppendResult> EventStoreImpl::Append(const AppendRequest& request) {
  Pending p;
  p.requests = &request;
  p.count = 1;
  Submit(&p);
  return std::move(p.results[0]);
}

std::vector<Result<AppendResult>> EventStoreImpl::AppendMany(
    const std::vector<AppendRequest>& requests) {
  if (requests.empty()) return {};
  Pending p;
  p.requests = requests.data();
  p.count = requests.size();
  Submit(&p);
  return std::move(p.results);
}

void EventStoreImpl::Submit(Pending* p) {
  std::unique_lock lock(queue_mu_);
  queue_.push_back(p);
  while (!p->done) {
    if (leading_) {
      queue_cv_.wait(lock);
      continue;
    }
    // Lead: take what is queued, up to max_group requests.
    leading_ = true;
    std::vector<Pending*> group;
    size_t n = 0;
    while (!queue_.empty() &&
           (group.empty() || n + queue_.front()->count <= opts_.max_group)) {
      n += queue_.front()->count;
      group.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    RunGroup(group);
    lock.lock();
    for (Pending* q : group) q->done = true;
    leading_ = false;
    queue_cv_.notify_all();
  }
}

void EventStoreImpl::RunGroup(std::vector<Pending*>& group) {
  std::lock_guard wlock(write_mu_);
  Status ready = opts_.read_only
                     ? Status(Unavailable("event store opened read-only"))
                     : RecoverIfNeeded();
  if (!ready.ok()) {
    for (Pending* p : group) {
      for (size_t i = 0; i < p->count; ++i) p->results.push_back(ready.error());
    }
    return;
  }
  Group g;
  g.head = head_.load();
  g.hash = last_hash_;
  g.at = last_at_;
  g.clock = std::max(NowMillis(), last_at_);
  // Requests whose outcome depends on the write landing.
  std::vector<Result<AppendResult>*> dependent;
  {
    std::shared_lock dblock(db_mu_);
    for (Pending* p : group) {
      p->results.reserve(p->count);
      for (size_t i = 0; i < p->count; ++i) {
        bool appended = false;
        p->results.push_back(Decide(p->requests[i], g, &appended));
        if (appended) dependent.push_back(&p->results.back());
      }
    }
  }
  if (dependent.empty()) return;
  Status st = Write(&g.batch);
  if (!st.ok()) {
    for (auto* r : dependent) {
      // Rebuilt in place (assigning the variant trips a false
      // -Wmaybe-uninitialized in GCC 12).
      std::destroy_at(r);
      std::construct_at(r, st.error());
    }
    return;
  }
  {
    std::unique_lock vlock(versions_mu_);
    for (auto& [stream, v] : g.versions) versions_[stream] = v;
  }
  last_hash_ = g.hash;
  last_at_ = g.at;
  Publish(g.head);
}

bool EventStoreImpl::SpaceAvailable() {
  // Writes and syncs a probe file through the same file system as the DB.
  rocksdb::FileSystem* fs =
      fs_ ? fs_.get() : rocksdb::FileSystem::Default().get();
  std::string probe = opts_.path + "/SPACE-PROBE";
  std::unique_ptr<rocksdb::FSWritableFile> f;
  rocksdb::IOStatus s =
      fs->NewWritableFile(probe, rocksdb::FileOptions(), &f, nullptr);
  if (s.ok()) s = f->Append(std::string(64 << 10, '\0'), {}, nullptr);
  if (s.ok()) s = f->Sync({}, nullptr);
  if (f) f->Close({}, nullptr).PermitUncheckedError();
  fs->DeleteFile(probe, {}, nullptr).PermitUncheckedError();
  return s.ok();
}

// Called by the writer (write_mu_ held, db_mu_ not held) before a write.
Status EventStoreImpl::RecoverIfNeeded() {
  if (!needs_recovery_) return Status::Ok();
  // A failed WAL write leaves RocksDB refusing writes (a background error
  // Resume() cannot always clear) and possibly a torn record at the WAL's
  // end. Reopening is the sure way back: recovery replays the WAL up to the
  // last whole batch and starts a new one. Only once space is back.
  if (!SpaceAvailable()) {
    return Unavailable("event store write failed: no space left on device");
  }
  std::unique_lock dblock(db_mu_);
  CloseDb();
  Status st = OpenDb();
  if (!st.ok()) return st;
  // The truth is on disk: a batch whose sync failed may still have landed.
  st = LoadState();
  if (!st.ok()) return st;
  needs_recovery_ = false;
  return Status::Ok();
}

Status EventStoreImpl::Write(rocksdb::WriteBatch* batch) {
  if (opts_.read_only) return Unavailable("event store opened read-only");
  rocksdb::WriteOptions wo;
  wo.sync = opts_.sync;
  std::shared_lock dblock(db_mu_);
  if (!db_) {
    needs_recovery_ = true;
    return Unavailable("event store closed after a write error");
  }
  rocksdb::Status s = db_->Write(wo, batch);
  if (!s.ok()) {
    needs_recovery_ = true;
    return WriteError(s);
  }
  return Status::Ok();
}

void EventStoreImpl::Publish(uint64_t head) {
  {
    std::lock_guard lock(notify_mu_);
    head_.store(head, std::memory_order_release);
  }
  notify_cv_.notify_all();
}

uint64_t EventStoreImpl::CurrentVersion(const std::string& stream,
                                        const Group& g) const {
  auto it = g.versions.find(stream);
  if (it != g.versions.end()) return it->second;
  return StreamVersion(stream);
}

std::optional<uint64_t> EventStoreImpl::LookupId(const std::string& key) const {
  std::string v;
  rocksdb::Status s = db_->Get({}, cf_[kIds], key, &v);
  if (!s.ok()) return std::nullopt;
  return keys::GetBE64(v);
}

Result<Event> EventStoreImpl::EventAt(uint64_t position, const Group* g) const {
  if (g) {
    auto it = g->events.find(position);
    if (it != g->events.end()) return it->second;
  }
  return ReadAtLocked(position);
}

Result<AppendResult> EventStoreImpl::Duplicate(uint64_t first, uint64_t count,
                                               std::string reply,
                                               const Group& g) const {
  AppendResult r;
  r.duplicate = true;
  r.reply = std::move(reply);
  r.head = g.head;
  for (uint64_t p = first; p < first + count; ++p) {
    auto e = EventAt(p, &g);
    if (!e) return e.error();
    r.events.push_back(std::move(*e));
  }
  return r;
}

bool ValidText(std::string_view s) {
  return simdjson::validate_utf8(s.data(), s.size());
}

Result<AppendResult> EventStoreImpl::Decide(const AppendRequest& r, Group& g,
                                            bool* appended) {
  *appended = false;
  // Idempotency key seen before: the first answer again.
  if (!r.idempotency_key.empty()) {
    if (r.idempotency_key.size() > kMaxKeyBytes ||
        !ValidText(r.idempotency_key)) {
      return Error::Validation("idempotency_key",
                               "idempotency key must be 1..256 bytes of UTF-8");
    }
    auto it = g.keys.find(r.idempotency_key);
    if (it != g.keys.end()) {
      return Duplicate(it->second.first, it->second.count, it->second.reply, g);
    }
    std::string v;
    rocksdb::Status s =
        db_->Get({}, cf_[kIds], keys::IdempotencyKey(r.idempotency_key), &v);
    if (s.ok()) {
      if (v.size() < 16) return Corrupt("bad idempotency record");
      return Duplicate(keys::GetBE64(v), keys::GetBE64(v.substr(8)),
                       v.substr(16), g);
    }
    if (!s.IsNotFound()) return ReadError(s, "read ids");
  }

  // Shape of every event.
  std::vector<Event> out;
  out.reserve(r.events.size());
  std::unordered_set<std::string_view> ids_in_request;
  size_t ids_seen = 0;
  std::vector<uint64_t> seen_positions;
  for (const NewEvent& ne : r.events) {
    if (!IsValidStreamName(ne.stream)) {
      return Error::Validation("stream", "invalid stream name");
    }
    if (ne.type.empty() || ne.type.size() > kMaxNameBytes ||
        !ValidText(ne.type)) {
      return Error::Validation("type",
                               "event type must be 1..256 bytes of UTF-8");
    }
    if (ne.actor.size() > kMaxNameBytes || !ValidText(ne.actor)) {
      return Error::Validation("actor",
                               "actor must be at most 256 bytes of UTF-8");
    }
    if (ne.data.size() + ne.meta.size() > opts_.max_event_bytes) {
      return Error::Validation(
          "data", "event larger than " + std::to_string(opts_.max_event_bytes) +
                      " bytes");
    }
    Event e;
    e.stream = ne.stream;
    e.type = ne.type;
    e.actor = ne.actor;
    if (!CanonicalObject(ne.data, &e.data)) {
      return Error::Validation("data",
                               "data must be a JSON object of valid UTF-8");
    }
    if (!CanonicalObject(ne.meta, &e.meta)) {
      return Error::Validation("meta",
                               "meta must be a JSON object of valid UTF-8");
    }
    if (!ne.id.empty()) {
      if (!IsValidId(ne.id)) return Error::Validation("id", "invalid event id");
      if (!ids_in_request.insert(ne.id).second) {
        return Error::Validation("id",
                                 "event id repeated in one request: " + ne.id);
      }
      e.id = ne.id;
      std::optional<uint64_t> found;
      if (auto it = g.ids.find(ne.id); it != g.ids.end()) {
        found = it->second;
      } else {
        found = LookupId(keys::EventId(ne.id));
      }
      if (found) {
        ++ids_seen;
        seen_positions.push_back(*found);
      }
    }
    out.push_back(std::move(e));
  }
  if (ids_seen > 0) {
    if (ids_seen != r.events.size()) {
      return Error{ErrorCode::kAlreadyExists,
                   "some event ids of this request are already stored", "id"};
    }
    // Every event seen before: the stored events, nothing appended.
    AppendResult dup;
    dup.duplicate = true;
    dup.head = g.head;
    for (uint64_t p : seen_positions) {
      auto e = EventAt(p, &g);
      if (!e) return e.error();
      dup.events.push_back(std::move(*e));
    }
    return dup;
  }

  // Expected versions.
  for (const StreamExpectation& x : r.expectations) {
    if (!IsValidStreamName(x.stream)) {
      return Error::Validation("stream", "invalid stream name in expectation");
    }
    uint64_t cur = CurrentVersion(x.stream, g);
    bool ok = true;
    std::string want;
    switch (x.expected.kind) {
      case ExpectedVersion::Kind::kAny:
        break;
      case ExpectedVersion::Kind::kNoStream:
        ok = cur == 0;
        want = "no stream";
        break;
      case ExpectedVersion::Kind::kExact:
        ok = cur == x.expected.version;
        want = "version " + std::to_string(x.expected.version);
        break;
    }
    if (!ok) {
      return Error{ErrorCode::kVersionConflict,
                   "stream " + x.stream + " is at version " +
                       std::to_string(cur) + ", expected " + want,
                   {}};
    }
  }

  // Assign positions, versions, time, ids and the hash chain.
  const Millis at = std::max(r.at.value_or(g.clock), g.at);
  uint64_t head = g.head;
  std::string hash = g.hash;
  std::unordered_map<std::string, uint64_t> versions;
  std::vector<std::string> encoded;
  encoded.reserve(out.size());
  for (Event& e : out) {
    e.position = ++head;
    auto vit = versions.find(e.stream);
    uint64_t v =
        vit != versions.end() ? vit->second : CurrentVersion(e.stream, g);
    e.version = v + 1;
    versions[e.stream] = e.version;
    e.at = at;
    if (e.id.empty()) e.id = id_gen_.Next(at);
    // One encoding gives the hashed text and the stored one.
    size_t hash_at = 0;
    std::string unhashed = EncodeEnvelopeUnhashed(e, &hash_at);
    e.hash = Sha256Hex(hash, unhashed);
    hash = e.hash;
    encoded.push_back(WithHash(unhashed, hash_at, e.hash));
  }
  for (const std::string& text : encoded) {
    if (text.size() > opts_.max_event_bytes) {
      return Error::Validation(
          "data", "event larger than " + std::to_string(opts_.max_event_bytes) +
                      " bytes");
    }
  }

  // Accepted: into the group's batch and view.
  uint64_t first = g.head + 1;
  for (size_t i = 0; i < out.size(); ++i) {
    const Event& e = out[i];
    std::string pos = keys::Position(e.position);
    g.batch.Put(cf_[kEvents], pos, encoded[i]);
    g.batch.Put(cf_[kStreams], keys::Stream(e.stream, e.version), pos);
    g.batch.Put(cf_[kIds], keys::EventId(e.id), pos);
    g.ids[e.id] = e.position;
    g.events[e.position] = e;
  }
  for (auto& [stream, v] : versions) g.versions[stream] = v;
  g.head = head;
  g.hash = hash;
  if (!out.empty()) g.at = at;
  if (!r.idempotency_key.empty()) {
    std::string v;
    keys::PutBE64(&v, first);
    keys::PutBE64(&v, out.size());
    v += r.reply;
    g.batch.Put(cf_[kIds], keys::IdempotencyKey(r.idempotency_key), v);
    g.keys[r.idempotency_key] = {first, out.size(), r.reply};
  }
  *appended = !out.empty() || !r.idempotency_key.empty();
  AppendResult res;
  res.events = std::move(out);
  res.head = head;
  return res;
}

// ---------------------------------------------------------------- reads

Status EventStoreImpl::ReadAll(uint64_t after,
                               const EventVisitor& visitor) const {
  std::shared_lock dblock(db_mu_);
  return ReadAllLocked(after, visitor);
}

Status EventStoreImpl::ReadAllLocked(uint64_t after,
                                     const EventVisitor& visitor) const {
  if (!db_) return Unavailable("event store closed after a write error");
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kEvents]));
  uint64_t expect = after + 1;
  Event e;
  for (it->Seek(keys::Position(after + 1)); it->Valid(); it->Next()) {
    Status st = DecodeEnvelopeInto(it->value().ToStringView(), &e);
    if (!st.ok()) {
      return Corrupt("event " + std::to_string(expect) +
                     " does not decode: " + st.error().message);
    }
    ++expect;
    if (!visitor(e)) return Status::Ok();
  }
  if (!it->status().ok()) return ReadError(it->status(), "read");
  return Status::Ok();
}

Result<std::vector<Event>> EventStoreImpl::ReadStream(const std::string& stream,
                                                      uint64_t from,
                                                      bool backward,
                                                      size_t limit) const {
  std::shared_lock dblock(db_mu_);
  if (!db_) return Unavailable("event store closed after a write error");
  std::vector<Event> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_[kStreams]));
  std::string prefix = stream;
  prefix.push_back('\0');
  auto in_stream = [&] { return it->Valid() && it->key().starts_with(prefix); };
  if (backward) {
    if (from == 0) {
      it->SeekForPrev(keys::StreamEnd(stream));
    } else {
      it->SeekForPrev(keys::Stream(stream, from));
    }
  } else {
    it->Seek(keys::Stream(stream, std::max<uint64_t>(from, 1)));
  }
  while (in_stream() && (limit == 0 || out.size() < limit)) {
    uint64_t pos = keys::GetBE64(it->value().ToStringView());
    auto e = ReadAtLocked(pos);
    if (!e) return e.error();
    out.push_back(std::move(*e));
    if (backward) {
      it->Prev();
    } else {
      it->Next();
    }
  }
  if (!it->status().ok()) return ReadError(it->status(), "read stream");
  return out;
}

Result<Event> EventStoreImpl::ReadAt(uint64_t position) const {
  std::shared_lock dblock(db_mu_);
  return ReadAtLocked(position);
}

Result<Event> EventStoreImpl::ReadAtLocked(uint64_t position) const {
  if (!db_) return Unavailable("event store closed after a write error");
  std::string v;
  rocksdb::Status s = db_->Get({}, cf_[kEvents], keys::Position(position), &v);
  if (s.IsNotFound()) {
    return Error::NotFound("no event at position " + std::to_string(position));
  }
  if (!s.ok()) return ReadError(s, "read");
  auto e = DecodeStored(v);
  if (!e) {
    return Corrupt("event " + std::to_string(position) +
                   " does not decode: " + e.error().message);
  }
  return e;
}

uint64_t EventStoreImpl::PositionAtOrBefore(Millis t) const {
  // `at` never decreases with position: binary search for the last <= t.
  std::shared_lock dblock(db_mu_);
  uint64_t lo = 0, hi = Head();  // answer in [lo, hi]
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    auto e = ReadAtLocked(mid);
    if (e && e->at <= t) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

uint64_t EventStoreImpl::StreamVersion(const std::string& stream) const {
  std::shared_lock lock(versions_mu_);
  auto it = versions_.find(stream);
  return it == versions_.end() ? 0 : it->second;
}

uint64_t EventStoreImpl::MemtableBytes() const {
  std::shared_lock dblock(db_mu_);
  uint64_t bytes = 0;
  if (!db_ || !db_->GetAggregatedIntProperty(
                  rocksdb::DB::Properties::kCurSizeAllMemTables, &bytes)) {
    return 0;
  }
  return bytes;
}

std::optional<uint64_t> EventStoreImpl::FindId(const std::string& id) const {
  std::shared_lock dblock(db_mu_);
  if (!db_) return std::nullopt;
  if (auto p = LookupId(keys::EventId(id))) return p;
  std::string v;
  if (db_->Get({}, cf_[kIds], keys::IdempotencyKey(id), &v).ok() &&
      v.size() >= 16) {
    return keys::GetBE64(v);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- tail

void SubscriptionImpl::Cancel() {
  std::lock_guard jl(state_->join_mu);
  if (state_->store) state_->store->CancelLocked(state_.get());
}

void EventStoreImpl::CancelLocked(SubState* s) {
  {
    std::lock_guard lock(notify_mu_);
    s->stop.store(true);
  }
  notify_cv_.notify_all();
  // From inside the callback: delivery stops when it returns; the store's
  // destructor joins the thread.
  if (s->thread.joinable() &&
      s->thread.get_id() != std::this_thread::get_id()) {
    s->thread.join();
  }
}

std::unique_ptr<Subscription> EventStoreImpl::Subscribe(uint64_t after,
                                                        EventVisitor on_event) {
  auto state = std::make_shared<SubState>();
  state->store = this;
  {
    std::lock_guard lock(subs_mu_);
    // Forget subscriptions whose handle is gone (already cancelled).
    std::erase_if(subs_, [](const std::shared_ptr<SubState>& s) {
      if (s.use_count() != 1) return false;
      std::lock_guard jl(s->join_mu);
      if (s->thread.joinable()) {
        if (s->thread.get_id() == std::this_thread::get_id()) return false;
        s->thread.join();
      }
      return true;
    });
    subs_.push_back(state);
  }
  std::lock_guard jl(state->join_mu);
  state->thread = std::thread(
      [this, s = state.get(), after, cb = std::move(on_event)]() mutable {
        SubscriptionLoop(s, after, std::move(cb));
      });
  return std::make_unique<SubscriptionImpl>(state);
}

void EventStoreImpl::SubscriptionLoop(SubState* s, uint64_t after,
                                      EventVisitor cb) {
  uint64_t pos = after;
  while (!s->stop.load()) {
    uint64_t head = head_.load(std::memory_order_acquire);
    if (head > pos) {
      // Backlog and live events alike come from the log, in order, up to
      // the durable head: no gap, no duplicate.
      Status st = ReadAll(pos, [&](const Event& e) {
        if (e.position > head || s->stop.load()) return false;
        if (!cb(e)) {
          s->stop.store(true);
          return false;
        }
        pos = e.position;
        return true;
      });
      if (!st.ok()) {
        std::unique_lock lock(notify_mu_);
        notify_cv_.wait_for(lock, std::chrono::milliseconds(50),
                            [&] { return s->stop.load(); });
      }
      continue;
    }
    std::unique_lock lock(notify_mu_);
    notify_cv_.wait(lock, [&] {
      return s->stop.load() || head_.load(std::memory_order_acquire) > pos;
    });
  }
}

// ---------------------------------------------------------------- snapshots

namespace {

// Series 0 is keyed by the bare position (as before series existed); series
// s > 0 by {0xFF, s} + position, after every series-0 key a store can hold.
constexpr uint64_t kMaxSeriesZeroPosition = 0xFEFF'FFFF'FFFF'FFFFull;

// Every snapshot also has a key in the meta column family, "snapshot/" +
// series + position, with an empty value. A snapshot is one large value
// (one data block of its own), so seeking among the snapshots themselves
// reads whole snapshots from every level it touches; the index is seeked
// instead and the one snapshot chosen is read by a point lookup.
constexpr std::string_view kSnapshotIndexPrefix = "snapshot/";

std::string SnapshotIndexKey(uint8_t series, uint64_t position) {
  std::string k(kSnapshotIndexPrefix);
  k.push_back(static_cast<char>(series));
  keys::PutBE64(&k, position);
  return k;
}

std::string SnapshotKey(uint8_t series, uint64_t position) {
  if (series == 0) return keys::Position(position);
  std::string k;
  k.push_back(static_cast<char>(0xFF));
  k.push_back(static_cast<char>(series));
  keys::PutBE64(&k, position);
  return k;
}

// The position of `key` when it belongs to `series`.
std::optional<uint64_t> SnapshotKeyPosition(uint8_t series,
                                            std::string_view key) {
  if (series == 0) {
    if (key.size() != 8) return std::nullopt;
    return keys::GetBE64(key);
  }
  if (key.size() != 10 || static_cast<unsigned char>(key[0]) != 0xFF ||
      static_cast<unsigned char>(key[1]) != series) {
    return std::nullopt;
  }
  return keys::GetBE64(key.substr(2));
}

}  // namespace

Status EventStoreImpl::PutSnapshot(uint64_t position, const std::string& bytes,
                                   uint8_t series) {
  if (series == 0 && position > kMaxSeriesZeroPosition) {
    return Error::Validation("position", "snapshot position out of range");
  }
  std::string v = Sha256Raw(bytes);
  v += bytes;
  std::lock_guard wlock(write_mu_);
  if (opts_.read_only) return Unavailable("event store opened read-only");
  Status st = RecoverIfNeeded();
  if (!st.ok()) return st;
  rocksdb::WriteBatch b;
  b.Put(cf_[kSnapshots], SnapshotKey(series, position), v);
  b.Put(cf_[kMeta], SnapshotIndexKey(series, position), "");
  return Write(&b);
}

std::optional<std::pair<uint64_t, std::string>> EventStoreImpl::LatestSnapshot(
    uint64_t max_position, uint8_t series) const {
  std::shared_lock dblock(db_mu_);
  if (!db_) return std::nullopt;
  if (series == 0)
    max_position = std::min(max_position, kMaxSeriesZeroPosition);
  // The snapshot's bytes if its checksum holds.
  auto checked = [](std::string_view v) -> std::optional<std::string> {
    if (v.size() < 32) return std::nullopt;
    std::string_view bytes = v.substr(32);
    if (Sha256Raw(bytes) != v.substr(0, 32)) return std::nullopt;
    return std::string(bytes);
  };
  const std::string prefix =
      SnapshotIndexKey(series, 0).substr(0, kSnapshotIndexPrefix.size() + 1);
  bool indexed = false;
  std::unique_ptr<rocksdb::Iterator> ix(db_->NewIterator({}, cf_[kMeta]));
  for (ix->SeekForPrev(SnapshotIndexKey(series, max_position)); ix->Valid();
       ix->Prev()) {
    std::string_view key = ix->key().ToStringView();
    if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) break;
    indexed = true;
    const uint64_t position = keys::GetBE64(key.substr(prefix.size()));
    // Pinned in the block cache: the bytes are copied once, after the
    // checksum (a snapshot is megabytes).
    rocksdb::PinnableSlice v;
    if (!db_->Get({}, cf_[kSnapshots], SnapshotKey(series, position), &v)
             .ok()) {
      continue;  // pruned meanwhile
    }
    if (auto bytes = checked(v.ToStringView())) {
      return std::make_pair(position, std::move(*bytes));
    }
    // damaged: an older one
  }
  if (!indexed) {
    ix->Seek(prefix);
    indexed = ix->Valid() && ix->key().starts_with(prefix);
  }
  if (indexed || series != 0) return std::nullopt;
  // A store written before the index: scan the snapshots themselves (the
  // bound keeps the seek from loading a snapshot past max_position).
  const std::string bound = SnapshotKey(series, max_position) + '\0';
  const rocksdb::Slice bound_slice(bound);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &bound_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kSnapshots]));
  for (it->SeekForPrev(SnapshotKey(series, max_position)); it->Valid();
       it->Prev()) {
    std::optional<uint64_t> position =
        SnapshotKeyPosition(series, it->key().ToStringView());
    if (!position) return std::nullopt;  // before the series' first key
    if (auto bytes = checked(it->value().ToStringView())) {
      return std::make_pair(*position, std::move(*bytes));
    }
  }
  return std::nullopt;
}

Status EventStoreImpl::DeleteSnapshots(uint8_t series, uint64_t below) {
  if (series == 0) below = std::min(below, kMaxSeriesZeroPosition);
  std::lock_guard wlock(write_mu_);
  if (opts_.read_only) return Unavailable("event store opened read-only");
  Status st = RecoverIfNeeded();
  if (!st.ok()) return st;
  rocksdb::WriteBatch b;
  b.DeleteRange(cf_[kSnapshots], SnapshotKey(series, 0),
                SnapshotKey(series, below));
  b.DeleteRange(cf_[kMeta], SnapshotIndexKey(series, 0),
                SnapshotIndexKey(series, below));
  return Write(&b);
}

// ---------------------------------------------------------------- tools

Status EventStoreImpl::Backup(const std::string& dir) {
  std::shared_lock dblock(db_mu_);
  if (!db_) return Unavailable("event store closed after a write error");
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return WriteError(s);
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  s = cp->CreateCheckpoint(dir);
  if (!s.ok()) {
    return Error{ErrorCode::kUnavailable,
                 "backup to " + dir + " failed: " + s.ToString(),
                 {}};
  }
  return Status::Ok();
}

EventStore::VerifyReport EventStoreImpl::Verify(
    const std::function<void(const std::string&)>& progress) const {
  VerifyReport rep;
  std::shared_lock dblock(db_mu_);
  if (!db_) {
    rep.ok = false;
    rep.problems.push_back("event store closed after a write error");
    return rep;
  }
  constexpr size_t kMaxProblems = 20;
  auto problem = [&](std::string p) {
    rep.ok = false;
    if (rep.problems.size() < kMaxProblems)
      rep.problems.push_back(std::move(p));
  };
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;
  // A consistent view even while the server appends.
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  ro.snapshot = snap;
  std::unordered_map<std::string, uint64_t> versions;
  std::string hash(kGenesisHash);
  bool chain_broken = false;
  uint64_t expect = 1;
  Millis last_at = std::numeric_limits<Millis>::min();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_[kEvents]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint64_t pos = keys::GetBE64(it->key().ToStringView());
    ++rep.events;
    if (it->key().size() != 8) problem("events key of bad length");
    if (pos != expect) {
      problem("gap: expected position " + std::to_string(expect) + ", found " +
              std::to_string(pos));
    }
    expect = pos + 1;
    auto e = DecodeStored(it->value().ToStringView());
    if (!e) {
      problem("event " + std::to_string(pos) +
              " does not decode: " + e.error().message);
      chain_broken = true;
      continue;
    }
    if (e->position != pos) {
      problem("event " + std::to_string(pos) + " says position " +
              std::to_string(e->position));
    }
    if (e->at < last_at) {
      problem("event " + std::to_string(pos) + ": time goes back");
    }
    last_at = e->at;
    uint64_t& v = versions[e->stream];
    if (e->version != v + 1) {
      problem("event " + std::to_string(pos) + ": stream " + e->stream +
              " version " + std::to_string(e->version) + " after " +
              std::to_string(v));
    }
    v = e->version;
    if (!chain_broken) {
      std::string want = EventHash(hash, *e);
      if (want != e->hash) {
        problem("event " + std::to_string(pos) +
                ": hash does not match (first tampered or damaged event)");
        chain_broken = true;
      }
    }
    hash = e->hash;
    std::string idx;
    rocksdb::Status s =
        db_->Get(ro, cf_[kStreams], keys::Stream(e->stream, e->version), &idx);
    if (!s.ok() || keys::GetBE64(idx) != pos) {
      problem("event " + std::to_string(pos) + ": streams index disagrees");
    }
    s = db_->Get(ro, cf_[kIds], keys::EventId(e->id), &idx);
    if (!s.ok() || keys::GetBE64(idx) != pos) {
      problem("event " + std::to_string(pos) + ": ids index disagrees");
    }
    if (progress && rep.events % 100000 == 0) {
      progress("verified " + std::to_string(rep.events) + " events");
    }
  }
  if (!it->status().ok()) problem("read failed: " + it->status().ToString());
  it.reset();
  // Every index entry points at an event that agrees (counted both ways).
  uint64_t stream_entries = 0, id_entries = 0;
  std::unique_ptr<rocksdb::Iterator> si(db_->NewIterator(ro, cf_[kStreams]));
  for (si->SeekToFirst(); si->Valid(); si->Next()) ++stream_entries;
  std::unique_ptr<rocksdb::Iterator> ii(db_->NewIterator(ro, cf_[kIds]));
  for (ii->SeekToFirst(); ii->Valid(); ii->Next()) {
    if (ii->key().starts_with("e")) ++id_entries;
  }
  if (stream_entries != rep.events) {
    problem("streams index has " + std::to_string(stream_entries) +
            " entries for " + std::to_string(rep.events) + " events");
  }
  if (id_entries != rep.events) {
    problem("ids index has " + std::to_string(id_entries) + " entries for " +
            std::to_string(rep.events) + " events");
  }
  si.reset();
  ii.reset();
  db_->ReleaseSnapshot(snap);
  if (progress) {
    progress("verified " + std::to_string(rep.events) +
             " events: " + (rep.ok ? "ok" : "PROBLEMS"));
  }
  return rep;
}

Status EventStoreImpl::Import(const std::vector<Event>& events) {
  if (events.empty()) return Status::Ok();
  std::lock_guard wlock(write_mu_);
  // Appends go through the leader, which also holds write_mu_.
  if (opts_.read_only) return Unavailable("event store opened read-only");
  Status ready = RecoverIfNeeded();
  if (!ready.ok()) return ready;
  std::shared_lock dblock(db_mu_);
  Group g;
  g.head = head_.load();
  g.hash = last_hash_;
  Millis at = last_at_;
  for (const Event& e : events) {
    std::string where = "import: event " + std::to_string(e.position);
    if (e.position != g.head + 1) {
      return Error::Validation(
          "position",
          where + " is not at head + 1 (" + std::to_string(g.head + 1) + ")");
    }
    if (!IsValidStreamName(e.stream) || !IsValidId(e.id) || e.type.empty()) {
      return Error::Validation("event", where + ": bad stream, id or type");
    }
    if (e.version != CurrentVersion(e.stream, g) + 1) {
      return Error::Validation("version",
                               where + ": version does not continue");
    }
    if (e.at < at) return Error::Validation("at", where + ": time goes back");
    if (EventHash(g.hash, e) != e.hash) {
      return Error::Validation("hash", where + ": hash chain does not hold");
    }
    if (g.ids.count(e.id) || LookupId(keys::EventId(e.id))) {
      return Error::Validation("id", where + ": id repeated");
    }
    at = e.at;
    std::string pos = keys::Position(e.position);
    g.batch.Put(cf_[kEvents], pos, EncodeEnvelope(e));
    g.batch.Put(cf_[kStreams], keys::Stream(e.stream, e.version), pos);
    g.batch.Put(cf_[kIds], keys::EventId(e.id), pos);
    g.ids[e.id] = e.position;
    g.versions[e.stream] = e.version;
    g.head = e.position;
    g.hash = e.hash;
  }
  dblock.unlock();
  Status st = Write(&g.batch);
  if (!st.ok()) return st;
  {
    std::unique_lock vlock(versions_mu_);
    for (auto& [stream, v] : g.versions) versions_[stream] = v;
  }
  last_hash_ = g.hash;
  last_at_ = at;
  Publish(g.head);
  return Status::Ok();
}

Status EventStoreImpl::SetEpoch(const std::string& epoch) {
  if (epoch.empty() || epoch.size() > 64 || !IsValidId(epoch)) {
    return Error::Validation("epoch", "epoch must be 1..64 of [a-z0-9._-]");
  }
  std::lock_guard wlock(write_mu_);
  if (opts_.read_only) return Unavailable("event store opened read-only");
  Status st = RecoverIfNeeded();
  if (!st.ok()) return st;
  rocksdb::WriteBatch b;
  b.Put(cf_[kMeta], keys::kMetaEpoch, epoch);
  st = Write(&b);
  if (!st.ok()) return st;
  std::lock_guard lock(epoch_mu_);
  epoch_ = epoch;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<EventStore>> EventStore::Open(const Options& options) {
  auto store = std::make_unique<EventStoreImpl>(options);
  Status st = store->Init();
  if (!st.ok()) return st.error();
  return std::unique_ptr<EventStore>(std::move(store));
}

}  // namespace cairn::eventstore
