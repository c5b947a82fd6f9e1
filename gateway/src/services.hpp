// What the router and the handlers reach: the store, the Sequencer, auth,
// metrics, static files and the server's options. Owned by Server; every
// member outlives the requests.
#pragma once

#include <atomic>
#include <string>

#include "auth.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "sequencer.hpp"
#include "server_metrics.hpp"
#include "static_files.hpp"
#include "time_travel.hpp"

namespace cairn::gateway {

struct Services {
  eventstore::EventStore* store = nullptr;
  Sequencer* sequencer = nullptr;
  Auth* auth = nullptr;
  ServerMetrics* metrics = nullptr;
  StaticFiles* static_files = nullptr;
  TimeTravel* time_travel = nullptr;
  // The live WebSocket sessions' shared context; null: no /api/v1/live.
  const struct LiveContext* live = nullptr;
  // Where heavy reads run (Router); null: on the I/O thread that read them.
  class ReadPool* reads = nullptr;
  std::atomic<bool> stopping{false};
  // Requests routed and not yet answered.
  std::atomic<int64_t> in_flight{0};
};

}  // namespace cairn::gateway
