#include "demo_feed.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <vector>

#include "auth.hpp"
#include "sequencer.hpp"

#if __has_include("cairn/core/demo.hpp")
#include "cairn/core/demo.hpp"
#define CAIRN_HAVE_DEMO 1
#endif

namespace cairn::gateway {

Status FeedDemo(Sequencer& sequencer) {
#ifdef CAIRN_HAVE_DEMO
  auto commands = DemoCommands(NowMillis());
  std::vector<std::future<Response>> replies;
  replies.reserve(commands.size());
  for (auto& [ctx, cmd] : commands) {
    auto promise = std::make_shared<std::promise<Response>>();
    replies.push_back(promise->get_future());
    WriteRequest w;
    w.command = std::move(cmd);
    w.record_at = ctx.now;  // the history happened over the months before
    w.ctx = std::move(ctx);
    w.render = [](const State&, const std::vector<Event>&) {
      Response r;
      r.status = 201;
      return r;
    };
    w.done = [promise](Response r) { promise->set_value(std::move(r)); };
    sequencer.Submit(std::move(w));
  }
  for (size_t i = 0; i < replies.size(); ++i) {
    Response r = replies[i].get();
    if (r.status >= 300) {
      return Error{ErrorCode::kInternal,
                   "demo command " + std::to_string(i) + " refused: " + r.body,
                   {}};
    }
  }
  spdlog::info("demo company fed: {} commands", replies.size());
  return Status::Ok();
#else
  (void)sequencer;
  spdlog::warn("demo data is not available in this build");
  return Status::Ok();
#endif
}

}  // namespace cairn::gateway
