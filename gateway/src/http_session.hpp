// One HTTP/1.1 connection: reads requests (bounded head and body, read
// deadline), hands each to the Router, writes the reply, keeps the
// connection alive. One request at a time per connection; the reply may come
// from another thread and is posted back to the connection's I/O thread.
//
//   StartHttpSession(std::move(socket), io_thread.connections, router,
//                    metrics, kReadTimeout);
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>

namespace cairn::gateway {

class Router;
class ServerMetrics;

// Starts serving `socket`, whose executor must run its handlers one at a
// time (a single-threaded io_context or a strand); the session keeps itself
// alive until the connection closes, and counts itself in `connections`
// meanwhile (which must outlive it). `read_timeout`: the time a request has
// to arrive whole, from the connection's start or the last reply's (so an
// idle keep-alive connection closes after it too), and a reply to be taken.
void StartHttpSession(boost::asio::ip::tcp::socket socket,
                      std::atomic<int>& connections, Router& router,
                      ServerMetrics& metrics,
                      std::chrono::milliseconds read_timeout);

// Writes a 503 unavailable response to `socket` and closes it (used past the
// connection limit).
void RejectConnection(boost::asio::ip::tcp::socket socket);

}  // namespace cairn::gateway
