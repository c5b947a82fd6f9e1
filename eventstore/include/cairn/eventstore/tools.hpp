// The store's maintenance tools, for `cairn verify|export|import|backup`.
//
//   int code = RunVerify("data/store", std::cout);           // 0 ok, 1 not
//   ExportNdjson(*store, /*after=*/0, std::cout);
//   ImportNdjson(*fresh_store, std::cin, [](uint64_t n) { ... });
//
// Export format (NDJSON): a header line
//   {"cairn_export":1,"epoch":"<epoch>","after":<after>,"head":<head>}
// then one envelope per line exactly as stored (EncodeEnvelope, with hash),
// in position order. Import reads the header, imports the events in chunks
// keeping positions, versions, ids, times and hashes, then sets the store's
// epoch to the exported one (only for an export from position 0). Exit codes
// and messages are for people.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "cairn/core/error.hpp"
#include "cairn/eventstore/event_store.hpp"

namespace cairn::eventstore {

// Opens the store read-only (works beside a running server), verifies it,
// writes a report to `out`. Returns 0 when it holds, 1 when it does not or
// cannot be opened.
int RunVerify(const std::string& path, std::ostream& out);

// Writes the header and every event with position > after.
Status ExportNdjson(const EventStore& store, uint64_t after, std::ostream& out);

// Imports an export into `store`, which must be empty. `progress` (may be
// empty) is told the count imported after each chunk. Errors name the line.
Status ImportNdjson(EventStore& store, std::istream& in,
                    const std::function<void(uint64_t)>& progress = {});

// Takes a RocksDB checkpoint of the store at `path` into `dir` (opens it, so
// no server may hold it; a running server backs up through its admin
// endpoint with EventStore::Backup).
Status RunBackup(const std::string& path, const std::string& dir);

}  // namespace cairn::eventstore
