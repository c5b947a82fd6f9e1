// The append-only event log on RocksDB: the only truth in Cairn.
//
//   auto store = EventStore::Open({.path = "data/store"});
//   AppendRequest req;
//   req.events.push_back({.stream = "goal-kr-cac", .type = "goal.checked_in",
//                         .actor = "alice", .data = R"({"value":225})"});
//   req.expectations.push_back({"goal-kr-cac", ExpectedVersion::Exact(2)});
//   Result<AppendResult> r = (*store)->Append(req);   // durable when it
//   returns
//
// Guarantees: positions are global, gapless and strictly increasing from 1;
// versions count 1, 2, 3... per stream; `at` never decreases with position;
// each request is all-or-nothing; nothing is acknowledged before its
// WriteBatch is synced. Concurrent callers share one sync (group commit).
// Every event carries `hash` = SHA-256(prev hash hex || envelope without
// hash), so the log is tamper-evident (see Verify).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/core/error.hpp"
#include "cairn/core/event.hpp"
#include "cairn/eventstore/options.hpp"

namespace cairn::eventstore {

// Optimistic concurrency for one stream.
struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;  // for kExact

  static ExpectedVersion Any() { return {}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion Exact(uint64_t v) { return {Kind::kExact, v}; }
};

struct StreamExpectation {
  std::string stream;
  ExpectedVersion expected;
};

// An event to append; position, version, at and hash are assigned (`at`
// from the store's clock or AppendRequest::at).
struct NewEvent {
  std::string stream;
  std::string type;
  std::string id;  // unique event id; generated when empty
  std::string actor;
  std::string data = "{}";  // compact JSON object, valid UTF-8
  std::string meta = "{}";  // compact JSON object, valid UTF-8
};

struct AppendRequest {
  std::vector<NewEvent> events;  // 0..n; all or nothing
  std::vector<StreamExpectation> expectations;
  // When non-empty and seen before, nothing is appended and the first
  // append's result (with its stored reply) is returned, duplicate = true.
  std::string idempotency_key;
  // Stored with the idempotency key, returned on a duplicate.
  std::string reply;
  // The `at` to stamp this request's events with instead of the store's
  // clock (e.g. the time a caller decided them with). Raised to the `at` of
  // the event before when smaller, so `at` still never decreases with
  // position; a later request without one is stamped at least this.
  std::optional<Millis> at;
};

struct AppendResult {
  std::vector<Event> events;  // as stored (positions, versions, hashes)
  uint64_t head = 0;          // the head after this append
  bool duplicate = false;     // idempotency key seen before
  std::string reply;          // stored reply of the first append (duplicates)
};

// Called for each event in position order. Return false to stop.
using EventVisitor = std::function<bool(const Event&)>;

class Subscription {
 public:
  virtual ~Subscription() = default;
  // Stops delivery; after it returns the callback is not running and will
  // not be called again.
  virtual void Cancel() = 0;
};

class EventStore {
 public:
  // Opens or creates the store. Fails (kCorruption) on a store written by a
  // newer schema version or whose data does not decode, kUnavailable when
  // RocksDB cannot open it (e.g. another process holds it).
  static Result<std::unique_ptr<EventStore>> Open(const Options& options);

  virtual ~EventStore() = default;

  // Appends one request atomically, durably. Errors: kVersionConflict,
  // kValidationFailed (stream name, event size, JSON), kUnavailable (disk
  // full or write error; the store stays readable and recovers).
  virtual Result<AppendResult> Append(const AppendRequest& request) = 0;
  // Appends several independent requests in one synced write; each one
  // succeeds or fails alone, in order, later ones seeing earlier ones.
  virtual std::vector<Result<AppendResult>> AppendMany(
      const std::vector<AppendRequest>& requests) = 0;

  // Events with position > after, oldest first, until visitor returns false.
  virtual Status ReadAll(uint64_t after, const EventVisitor& visitor) const = 0;
  // Events of one stream with version >= from (forward) or <= from
  // (backward; from = 0 means the last), at most limit (0 = no limit).
  virtual Result<std::vector<Event>> ReadStream(const std::string& stream,
                                                uint64_t from, bool backward,
                                                size_t limit) const = 0;
  virtual Result<Event> ReadAt(uint64_t position) const = 0;
  // The last position whose `at` <= t (0 when none).
  virtual uint64_t PositionAtOrBefore(Millis t) const = 0;
  virtual uint64_t Head() const = 0;
  virtual uint64_t StreamVersion(const std::string& stream) const = 0;
  // Position of the event with this id or idempotency key, if any.
  virtual std::optional<uint64_t> FindId(const std::string& id) const = 0;
  // Names this store's history (32 hex characters); minted when the store is
  // created empty and again on the first open of a copy (a restored backup):
  // meta records the folder's identity (canonical path, device and inode)
  // and an open that finds another identity mints a new epoch.
  virtual std::string Epoch() const = 0;
  // Bytes the store's write buffers (RocksDB memtables, every column
  // family) hold in memory now; they grow with appends until flushed.
  // 0 when unknown.
  virtual uint64_t MemtableBytes() const { return 0; }

  // Delivers every event with position > after, in order, with no gap or
  // duplicate between the backlog and live appends, on a thread of the
  // store's. `on_event` must not call Append.
  virtual std::unique_ptr<Subscription> Subscribe(uint64_t after,
                                                  EventVisitor on_event) = 0;

  // Snapshots of projections (opaque bytes with a checksum kept by the
  // store), in independent series 0–255 (each its own sequence by position;
  // a store written before series existed has series 0 only).
  virtual Status PutSnapshot(uint64_t position, const std::string& bytes,
                             uint8_t series = 0) = 0;
  // The newest snapshot of `series` at or before max_position whose
  // checksum holds.
  virtual std::optional<std::pair<uint64_t, std::string>> LatestSnapshot(
      uint64_t max_position, uint8_t series = 0) const = 0;
  // Deletes the snapshots of `series` at positions below `below` (pruning;
  // the space returns as RocksDB compacts).
  virtual Status DeleteSnapshots(uint8_t series, uint64_t below) = 0;

  // An online RocksDB checkpoint into `dir` (must not exist; same file
  // system: files are hard-linked where possible). Opening the copy mints a
  // new epoch.
  virtual Status Backup(const std::string& dir) = 0;

  // Full check: positions gapless, versions contiguous, every event decodes,
  // indexes agree, hash chain holds. Progress lines go to `progress` when set.
  struct VerifyReport {
    bool ok = true;
    uint64_t events = 0;
    std::vector<std::string> problems;  // first problems found, readable
  };
  virtual VerifyReport Verify(
      const std::function<void(const std::string&)>& progress = {}) const = 0;

  // Imports exported events as stored (positions, versions, ids, `at`,
  // hashes kept) in chunks: each call continues the log, so the first event
  // must be at Head() + 1, versions must continue their streams and the hash
  // chain must hold (checked; kValidationFailed naming the position
  // otherwise, nothing written). One synced write per call. Idempotency keys
  // are not part of an export. ImportNdjson (tools.hpp) drives this.
  virtual Status Import(const std::vector<Event>& events) = 0;
  // Replaces the epoch (import keeps the exported store's epoch).
  virtual Status SetEpoch(const std::string& epoch) = 0;
};

}  // namespace cairn::eventstore
