// Static browser files from one folder (web-static/) at `/`.
//
//   StaticFiles files("/srv/cairn/web-static");
//   Response r = files.Serve(request);   // 200, 304 or 404
//
// Only files inside the folder are served: `..` segments (also percent-
// encoded), NUL bytes, backslashes and symlinks that lead out of the folder
// all answer 404. `/` and folders serve their index.html. Responses carry
// the content type by extension, `ETag` (size and mtime), `Last-Modified`
// and `Cache-Control: no-cache` (revalidate each time; 304 on a matching
// If-None-Match), and the board's security headers (kContentSecurityPolicy,
// `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`). Thread-safe (no
// state besides the root).
#pragma once

#include <string>

#include "router.hpp"

namespace cairn::gateway {

class StaticFiles {
 public:
  // `root` need not exist (then everything is 404).
  explicit StaticFiles(std::string root);

  Response Serve(const Request& request) const;
  const std::string& root() const { return root_; }

 private:
  std::string root_;  // canonical when it exists
};

// The Content-Security-Policy every static file is served with: scripts,
// styles and connections (the WebSocket too) from this origin only, images
// also as data: URLs (the empty favicon), never framed.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// The content type for a file name ("index.html" -> "text/html; ...").
std::string ContentTypeFor(const std::string& name);

}  // namespace cairn::gateway
