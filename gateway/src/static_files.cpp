#include "static_files.hpp"

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http_errors.hpp"

namespace cairn::gateway {

namespace fs = std::filesystem;

namespace {

std::string HttpDate(time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

Response NotFound() {
  return ErrorResponse(ErrorCode::kNotFound, "no such file");
}

}  // namespace

std::string ContentTypeFor(const std::string& name) {
  static constexpr std::array<std::pair<const char*, const char*>, 14> kTypes =
      {{{".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".wasm", "application/wasm"}}};
  std::string ext = fs::path(name).extension().string();
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root_, ec);
  if (!ec) root_ = canonical.string();
}

Response StaticFiles::Serve(const Request& request) const {
  Response r;
  r.route = "static";
  // Segments are already percent-decoded: check each one after decoding so
  // that %2e%2e and %2f cannot smuggle a `..` or a separator in.
  fs::path rel;
  for (const std::string& seg : request.segments) {
    if (seg.empty()) continue;
    if (seg == "." || seg == ".." || seg.find('/') != std::string::npos ||
        seg.find('\\') != std::string::npos ||
        seg.find('\0') != std::string::npos) {
      return NotFound();
    }
    rel /= seg;
  }
  std::error_code ec;
  fs::path full = fs::path(root_) / rel;
  if (fs::is_directory(full, ec)) full /= "index.html";
  // Resolve symlinks and check the file still lies inside the root.
  fs::path canonical = fs::canonical(full, ec);
  if (ec) return NotFound();
  std::string c = canonical.string();
  if (c.size() <= root_.size() || c.compare(0, root_.size(), root_) != 0 ||
      c[root_.size()] != '/') {
    return NotFound();
  }
  struct stat st {};
  if (::stat(c.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return NotFound();
  char etag[64];
  std::snprintf(
      etag, sizeof etag, "\"%llx-%llx\"",
      static_cast<unsigned long long>(st.st_size),
      static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
          static_cast<unsigned long long>(st.st_mtim.tv_nsec));
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Last-Modified", HttpDate(st.st_mtime));
  r.headers.emplace_back("Cache-Control", "no-cache");
  // The board runs only its own scripts and styles, talks only to this
  // server (the WebSocket included) and is never framed (clickjacking): a
  // script slipped in as text would not run.
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.content_type = ContentTypeFor(c);
  if (!request.if_none_match.empty() && request.if_none_match == etag) {
    r.status = 304;
    return r;
  }
  std::ifstream in(c, std::ios::binary);
  if (!in) return NotFound();
  std::ostringstream buf;
  buf << in.rdbuf();
  r.body = std::move(buf).str();
  r.head_only = request.method == "HEAD";
  return r;
}

}  // namespace cairn::gateway
