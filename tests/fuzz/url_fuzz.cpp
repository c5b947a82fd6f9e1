// Fuzzes request targets: the path/query splitter and percent-decoding
// (router.hpp ParseTarget, PercentDecode), then the whole read side of the
// router on a real store holding the demo company: route matching, the
// query parameters every GET reads (as_of, now, from, to, limit, depth,
// unit, cycle, stream, type) and static-file path resolution.
//
// Input: one header byte, then the request target as sent.
//   bit 0   HEAD instead of GET
//   bits 1-2 who asks: admin, an editor scoped to "sales", no token, an
//           unknown token
//   bit 3   Accept: application/x-ndjson
//   bit 4   If-None-Match: the static index.html's ETag
// Checks: no crash; ParseTarget's path is the target up to '?'; a decoded
// string is never longer than its source; every GET is answered exactly
// once, at once, never with a 5xx, with a JSON body unless a static file.
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "auth.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "demo_feed.hpp"
#include "router.hpp"
#include "sequencer.hpp"
#include "server_metrics.hpp"
#include "services.hpp"
#include "static_files.hpp"
#include "time_travel.hpp"

namespace {

namespace fs = std::filesystem;
using namespace cairn::gateway;

constexpr char kAdminSecret[] = "fuzz-admin-secret";

// The server's parts without sockets: a temp store fed with the demo
// company, static files with a symlink that leads out of the root.
struct World {
  fs::path dir;
  std::unique_ptr<cairn::eventstore::EventStore> store;
  ServerMetrics metrics;
  std::unique_ptr<Auth> auth;
  std::unique_ptr<StaticFiles> static_files;
  std::unique_ptr<TimeTravel> time_travel;
  std::unique_ptr<Sequencer> sequencer;
  Services services;
  std::unique_ptr<Router> router;
  std::string scoped_token;
  std::string index_etag;
};

void Fail(const std::string& why) {
  std::fprintf(stderr, "url_fuzz setup: %s\n", why.c_str());
  std::abort();
}

// Routes one request and returns its response; aborts unless it is
// answered exactly once before Handle returns (every GET answers at once).
Response Route(World& w, Request req) {
  int calls = 0;
  Response out;
  w.router->Handle(std::move(req), [&](Response r) {
    ++calls;
    out = std::move(r);
  });
  if (calls != 1) std::abort();
  return out;
}

std::string Header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

World* MakeWorld() {
  auto* w = new World;
  std::random_device rd;
  w->dir = fs::temp_directory_path() /
           ("cairn-url-fuzz-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(w->dir / "static" / "sub");
  std::ofstream(w->dir / "static" / "index.html") << "<h1>cairn</h1>";
  std::ofstream(w->dir / "static" / "app.js") << "export {};";
  std::ofstream(w->dir / "static" / "sub" / "index.html") << "sub";
  std::ofstream(w->dir / "secret.txt") << "outside";
  fs::create_symlink(w->dir / "secret.txt",
                     w->dir / "static" / "sub" / "link.txt");
  static fs::path cleanup = w->dir;
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(cleanup, ec);
  });

  cairn::eventstore::Options o;
  o.path = (w->dir / "data").string();
  o.sync = false;
  auto store = cairn::eventstore::EventStore::Open(o);
  if (!store) Fail(store.error().message);
  w->store = std::move(*store);
  w->auth = std::make_unique<Auth>(kAdminSecret, 0, 0);
  w->static_files = std::make_unique<StaticFiles>((w->dir / "static").string());
  w->time_travel = std::make_unique<TimeTravel>(*w->store);
  w->sequencer = std::make_unique<Sequencer>(*w->store, nullptr, &w->metrics);
  w->sequencer->SetTimeTravel(w->time_travel.get());
  if (auto st = w->sequencer->Start(); !st) Fail(st.error().message);
  if (auto st = FeedDemo(*w->sequencer); !st) Fail(st.error().message);
  w->services.store = w->store.get();
  w->services.sequencer = w->sequencer.get();
  w->services.auth = w->auth.get();
  w->services.metrics = &w->metrics;
  w->services.static_files = w->static_files.get();
  w->services.time_travel = w->time_travel.get();
  w->router = std::make_unique<Router>(w->services);

  // A token scoped to one unit, made through the API like a client would.
  Request post;
  post.method = "POST";
  post.target = "/api/v1/tokens";
  post.body = R"({"name":"fuzz-sales","role":"editor","unit":"sales"})";
  post.content_type = "application/json";
  post.authorization = std::string("Bearer ") + kAdminSecret;
  std::promise<Response> made;
  w->router->Handle(std::move(post),
                    [&](Response r) { made.set_value(std::move(r)); });
  Response r = made.get_future().get();
  if (r.status != 201) Fail("token: " + r.body);
  simdjson::dom::parser parser;
  std::string_view token;
  if (parser.parse(r.body)["token"].get_string().get(token)) Fail(r.body);
  w->scoped_token = std::string(token);

  Request index;
  index.method = "GET";
  index.target = "/index.html";
  w->index_etag = Header(Route(*w, std::move(index)), "ETag");
  if (w->index_etag.empty()) Fail("no ETag on /index.html");
  return w;
}

void CheckParseTarget(const std::string& target) {
  Request req;
  if (!ParseTarget(target, req)) return;
  if (target.compare(0, req.path.size(), req.path) != 0) std::abort();
  if (req.path.size() != target.size() && target[req.path.size()] != '?') {
    std::abort();
  }
  if (req.segments.empty()) std::abort();
  size_t decoded = 0;
  for (const std::string& s : req.segments) decoded += s.size();
  if (decoded > req.path.size()) std::abort();
  for (const auto& [k, v] : req.query) {
    if (k.size() + v.size() > target.size()) std::abort();
  }
}

void CheckPercentDecode(std::string_view s) {
  std::string out;
  if (!PercentDecode(s, out)) return;
  if (out.size() > s.size()) std::abort();
  // Encoding every byte and decoding again gives the bytes back.
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string enc;
  for (unsigned char c : out) {
    enc.push_back('%');
    enc.push_back(kHex[c >> 4]);
    enc.push_back(kHex[c & 15]);
  }
  std::string back;
  if (!PercentDecode(enc, back) || back != out) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = MakeWorld();
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string target(reinterpret_cast<const char*>(data + 1), size - 1);
  CheckParseTarget(target);
  CheckPercentDecode(target);

  Request req;
  req.method = (flags & 1) ? "HEAD" : "GET";
  req.target = target;
  switch ((flags >> 1) & 3) {
    case 0:
      req.authorization = std::string("Bearer ") + kAdminSecret;
      break;
    case 1:
      req.authorization = "Bearer " + world->scoped_token;
      break;
    case 2:
      break;
    default:
      req.authorization = "Bearer not-a-token";
      break;
  }
  if (flags & 8) req.accept = "application/x-ndjson";
  if (flags & 16) req.if_none_match = world->index_etag;
  req.received = std::chrono::steady_clock::now();

  Response r = Route(*world, std::move(req));
  if (r.status < 200 || r.status >= 500) {
    std::fprintf(stderr, "status %u for %s: %s\n", r.status, target.c_str(),
                 r.body.c_str());
    std::abort();
  }
  if (r.route != "static" && r.content_type == "application/json" &&
      r.status != 304) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) std::abort();
  }
  return 0;
}
