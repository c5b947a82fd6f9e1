// What the router and the handlers reach: the store, the Sequencer, auth,
// metrics, static files and the server's options. Owned by Server; every
// member outlives the requests.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "auth.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "sequencer.hpp"
#include "server_metrics.hpp"
#include "static_files.hpp"
#include "time_travel.hpp"

namespace cairn::gateway {

struct IoThread;

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
  // The HTTP I/O threads (listener.hpp), for their connection counts;
  // null: not reported.
  const std::vector<std::unique_ptr<IoThread>>* io = nullptr;
  std::atomic<bool> stopping{false};
  // Requests routed and not yet answered.
  std::atomic<int64_t> in_flight{0};
};

}  // namespace cairn::gateway
