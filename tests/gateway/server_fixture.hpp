// The fixture shared by the gateway integration tests: the real server
// (in-process) on a loopback port with a temp RocksDB store and static files,
// a small HTTP client (Call), a JSON pointer reader (Member) and Head().
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "http_client.hpp"
#include "server.hpp"
#include "temp_dir.hpp"

namespace cairn::gateway {

namespace fs = std::filesystem;

inline constexpr char kAdmin[] = "test-admin-secret";

using cairn::testing::TempDir;

// Reads one member of a JSON object as text ("" when absent).
inline std::string Member(const std::string& json, const std::string& key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return "<bad json>";
  simdjson::dom::element v;
  if (doc.at_pointer(key).get(v) != simdjson::SUCCESS) return "";
  if (v.is_string()) return std::string(v.get_string().value());
  return simdjson::minify(v);
}

// A socket connected to 127.0.0.1:`port` (the kernel completes the
// handshake whether or not the server accepts it), with a receive timeout
// when `recv_timeout_s` > 0; -1 when the connect fails.
inline int ConnectLoopback(uint16_t port, int recv_timeout_s = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (recv_timeout_s > 0) {
    timeval timeout{recv_timeout_s, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "static" / "sub");
    std::ofstream(dir_.path() / "static" / "index.html") << "<h1>cairn</h1>";
    std::ofstream(dir_.path() / "static" / "app.js") << "export {};";
    std::ofstream(dir_.path() / "secret.txt") << "outside";
    fs::create_symlink(dir_.path() / "secret.txt",
                       dir_.path() / "static" / "sub" / "link.txt");
    StartServer();
  }

  void StartServer(double rate = 0) {
    ServerOptions o;
    o.data_dir = (dir_.path() / "data").string();
    o.port = 0;
    o.admin_token = kAdmin;
    o.static_dir = (dir_.path() / "static").string();
    o.io_threads = io_threads_;
    o.read_threads = read_threads_;
    o.max_queued_reads = max_queued_reads_;
    o.max_connections = max_connections_;
    o.read_timeout = read_timeout_;
    o.rate_limit = rate;
    o.rate_burst = rate;
    o.access_log = false;
    o.demo = demo_;
    auto s = Server::Start(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(*s);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
  }

  void StopServer() {
    client_.reset();
    server_.reset();
  }

  ClientResponse Call(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::string& token = kAdmin,
                      HeaderList extra = {}) {
    HeaderList h = std::move(extra);
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    return client_->Send(method, target, body, h);
  }

  // An organisation: co > {sales, eng}, a quarter, one goal in sales.
  void Seed() {
    ASSERT_EQ(Call("POST", "/api/v1/units",
                   R"({"id":"co","name":"Co","kind":"company"})")
                  .status,
              201);
    ASSERT_EQ(
        Call(
            "POST", "/api/v1/units",
            R"({"id":"sales","name":"Sales","kind":"department","parent":"co"})")
            .status,
        201);
    ASSERT_EQ(
        Call("POST", "/api/v1/units",
             R"({"id":"eng","name":"Eng","kind":"department","parent":"co"})")
            .status,
        201);
    ASSERT_EQ(
        Call(
            "POST", "/api/v1/cycles",
            R"({"id":"q1","name":"Q1","kind":"quarter","start":"2026-01-01","end":"2026-03-31"})")
            .status,
        201);
    auto r = Call("POST", "/api/v1/goals", kGoal);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  uint64_t Head() { return server_->Head(); }

  static constexpr char kGoal[] =
      R"({"id":"kr-1","kind":"key_result","title":"Sign ten new customers","unit":"sales","cycle":"q1","owner":"ann","measure":{"start":0,"target":10}})";

  // For StartServer (a test may change them and restart).
  unsigned io_threads_ = 2;
  int read_threads_ = -1;  // ServerOptions::read_threads' default
  size_t max_queued_reads_ = kMaxQueuedReads;
  size_t max_connections_ = kMaxConnections;
  std::chrono::milliseconds read_timeout_ = kReadTimeout;
  bool demo_ = false;
  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace cairn::gateway
