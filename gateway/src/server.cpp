#include "server.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "auth.hpp"
#include "board_cache.hpp"
#include "cairn/core/json_writer.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "cairn/projections/board.hpp"
#include "cairn/projections/entities.hpp"
#include "cairn/projections/touched.hpp"
#include "demo_feed.hpp"
#include "hub.hpp"
#include "listener.hpp"
#include "read_pool.hpp"
#include "router.hpp"
#include "sequencer.hpp"
#include "server_metrics.hpp"
#include "services.hpp"
#include "static_files.hpp"
#include "thread_name.hpp"
#include "time_travel.hpp"
#include "websocket_session.hpp"

namespace cairn::gateway {

namespace net = boost::asio;

// Publishes to the live hub, then drops the shared snapshot boards the head
// has moved past (on the Sequencer's publishing thread).
class PublishToHub : public ChangeHub {
 public:
  PublishToHub(Hub& hub, BoardCache& boards) : hub_(hub), boards_(boards) {}
  void Publish(std::shared_ptr<const ChangeSet> changes) override {
    const uint64_t head = changes && !changes->events.empty()
                              ? changes->events.back().position
                              : 0;
    hub_.Publish(std::move(changes));
    if (head != 0) boards_.DropBefore(head);
  }

 private:
  Hub& hub_;
  BoardCache& boards_;
};

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<eventstore::EventStore> store;
  ServerMetrics metrics;
  std::unique_ptr<Auth> auth;
  std::unique_ptr<StaticFiles> static_files;
  std::unique_ptr<TimeTravel> time_travel;
  std::unique_ptr<Hub> hub;
  std::unique_ptr<Sequencer> sequencer;
  BoardCache boards{kBoardCacheBytes};    // outlives the sessions and reads
  std::unique_ptr<PublishToHub> publish;  // the hub, then the boards
  LiveContext live;
  std::unique_ptr<LiveShards> live_shards;  // before the hub goes (Stop)
  Services services;
  std::unique_ptr<Router> router;
  std::unique_ptr<ReadPool> reads;
  std::vector<std::unique_ptr<IoThread>> io;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;
  bool stopped = false;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
#ifdef __GLIBC__
  if (options.malloc_top_pad > 0) {
    mallopt(M_TOP_PAD, static_cast<int>(std::min<size_t>(options.malloc_top_pad,
                                                         size_t{1} << 30)));
  }
#endif
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (!options.access_log) spdlog::set_level(spdlog::level::warn);
  eventstore::Options store_options;
  store_options.path = options.data_dir;
  store_options.sync = options.sync;
  store_options.faults = options.store_faults;
  auto store = eventstore::EventStore::Open(store_options);
  if (!store) return store.error();
  impl->store = std::move(*store);
  impl->auth = std::make_unique<Auth>(options.admin_token, options.rate_limit,
                                      options.rate_burst);
  impl->static_files = std::make_unique<StaticFiles>(options.static_dir);
  impl->time_travel = std::make_unique<TimeTravel>(*impl->store);
  LiveRenderer renderer;
  renderer.goals_touched_by = [](const State& after, const Event& e) {
    return projections::GoalsTouchedBy(after, e);
  };
  renderer.write_goal = [](const State& after, const Goal& g, Millis now) {
    JsonWriter w;
    projections::WriteGoal(w, after, g, now);
    return std::move(w).Take();
  };
  impl->hub = std::make_unique<Hub>(impl->store->Head(), renderer);
  impl->publish = std::make_unique<PublishToHub>(*impl->hub, impl->boards);
  impl->sequencer = std::make_unique<Sequencer>(
      *impl->store, impl->publish.get(), &impl->metrics);
  impl->sequencer->SetTimeTravel(impl->time_travel.get());
  if (Status st = impl->sequencer->Start(); !st) return st.error();
  if (options.demo && impl->store->Head() == 0) {
    if (Status st = FeedDemo(*impl->sequencer); !st) return st.error();
  }
  impl->services.store = impl->store.get();
  impl->services.sequencer = impl->sequencer.get();
  impl->services.auth = impl->auth.get();
  impl->services.metrics = &impl->metrics;
  impl->services.static_files = impl->static_files.get();
  impl->services.time_travel = impl->time_travel.get();
  Impl* raw = impl.get();
  impl->live.hub = impl->hub.get();
  impl->live.store = impl->store.get();
  impl->live.authenticate =
      [raw](std::string_view token) -> Result<LivePrincipal> {
    auto who = raw->auth->Authenticate("Bearer " + std::string(token),
                                       *raw->sequencer->Snapshot());
    if (!who) return who.error();
    return LivePrincipal{who->name, who->unit};
  };
  impl->live.latest = [raw] { return raw->sequencer->Snapshot(); };
  impl->live.state_at = [raw](uint64_t position) {
    auto s = raw->time_travel->StateAt(position, raw->sequencer->Snapshot());
    return s ? *s : ReplayStateAt(*raw->store, position);
  };
  impl->live.write_board = [](const State& state, const LiveFilter& f) {
    JsonWriter w;
    projections::WriteBoard(w, state, f.unit, f.cycle, f.depth, state.at);
    return std::move(w).Take();
  };
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned n = options.io_threads == 0 ? cores : options.io_threads;
  impl->live_shards = std::make_unique<LiveShards>(n, options.live_send_ring);
  impl->live.shards = impl->live_shards.get();
  impl->metrics.SetLiveBatchedSends(impl->live_shards->batched_sends());
  impl->services.live = &impl->live;
  if (options.read_threads != 0) {
    const unsigned r = options.read_threads < 0
                           ? cores
                           : static_cast<unsigned>(options.read_threads);
    impl->reads = std::make_unique<ReadPool>(r, options.max_queued_reads,
                                             kReadThreadNice);
    impl->services.reads = impl->reads.get();
  }
  impl->live.reads = impl->reads.get();
  if (options.share_snapshot_boards) impl->live.boards = &impl->boards;
  impl->router = std::make_unique<Router>(impl->services);

  for (unsigned i = 0; i < n; ++i) {
    impl->io.push_back(std::make_unique<IoThread>());
  }
  impl->services.io = &impl->io;
  boost::system::error_code ec;
  auto address = net::ip::make_address(options.host, ec);
  if (ec) {
    return Error{ErrorCode::kValidationFailed,
                 "bad listen address " + options.host, "listen"};
  }
  impl->listener =
      std::make_shared<Listener>(impl->io, *impl->router, impl->metrics,
                                 options.max_connections, options.read_timeout);
  if (Status st = impl->listener->Open({address, options.port}); !st) {
    return st.error();
  }
  impl->listener->Run();
  for (unsigned i = 0; i < n; ++i) {
    impl->threads.emplace_back([io = impl->io[i].get()] { io->ioc.run(); });
    NameThread(impl->threads.back(), "cairn-http-" + std::to_string(i));
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->listener->port(); }

std::string Server::url() const {
  return "http://" + impl_->options.host + ":" + std::to_string(port());
}

uint64_t Server::Head() const { return impl_->store->Head(); }
eventstore::EventStore& Server::store() { return *impl_->store; }
Sequencer& Server::sequencer() { return *impl_->sequencer; }

void Server::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->listener->Stop();
  impl_->services.stopping = true;
  // Every queued write is decided, made durable and answered.
  impl_->sequencer->Stop();
  // Let the answers already routed reach their clients.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (impl_->services.in_flight.load() > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Heavy reads still queued get 503 (their replies go out while the I/O
  // threads run); the running ones finish. They use the store and the
  // TimeTravel, closed below.
  if (impl_->reads) impl_->reads->Stop();
  // Live sessions close with 1001 (going away).
  impl_->hub->Shutdown();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (auto& io : impl_->io) io->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->live_shards.reset();  // its sessions detach from the hub
  impl_->listener.reset();
  impl_->io.clear();
  // The snapshot writer thread uses the store: finish it first.
  impl_->services.time_travel = nullptr;
  impl_->time_travel.reset();
  impl_->store.reset();  // flushes and closes RocksDB
}

}  // namespace cairn::gateway
