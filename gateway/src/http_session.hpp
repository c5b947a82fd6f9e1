// One HTTP/1.1 connection: reads requests (bounded head and body, read
// deadline), hands each to the Router, writes the reply, keeps the
// connection alive. One request at a time per connection; the reply may come
// from another thread and is posted back to the connection's strand.
//
//   std::make_shared<HttpSession>(std::move(socket), router, metrics)->Run();
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>

namespace cairn::gateway {

class Router;
class ServerMetrics;

// Starts serving `socket` (which must run on a strand); the session keeps
// itself alive until the connection closes.
void StartHttpSession(boost::asio::ip::tcp::socket socket, Router& router,
                      ServerMetrics& metrics);

// Writes a 503 unavailable response to `socket` and closes it (used past the
// connection limit).
void RejectConnection(boost::asio::ip::tcp::socket socket);

}  // namespace cairn::gateway
