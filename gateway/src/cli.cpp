#include "cli.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "allocator.hpp"
#include "auth.hpp"
#include "cairn/core/json_writer.hpp"
#include "cairn/eventstore/event_store.hpp"
#include "cairn/eventstore/tools.hpp"
#include "http_client.hpp"
#include "sequencer.hpp"
#include "server.hpp"

namespace cairn::gateway {

namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage =
    "cairn " CAIRN_VERSION
    " - an event-sourced goals server\n"
    "\n"
    "Usage: cairn <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  serve    run the HTTP/WebSocket server\n"
    "  verify   check the store (positions, versions, hash chain)\n"
    "  export   write the log as NDJSON to stdout\n"
    "  import   read an NDJSON export from stdin into an empty store\n"
    "  backup   take a consistent copy of the store\n"
    "  token    create, list or revoke API tokens\n"
    "\n"
    "Flags: --help, --version. `cairn <command> --help` for a command's "
    "flags.\n";

struct FlagSpec {
  const char* name;  // "--data"
  bool takes_value;
  const char* env;  // fallback environment variable or nullptr
  const char* help;
};

struct CommandSpec {
  const char* name;
  const char* usage;
  std::vector<FlagSpec> flags;
};

const FlagSpec kData{"--data", true, "CAIRN_DATA",
                     "store folder (default ./cairn-data)"};
const FlagSpec kListen{"--listen", true, "CAIRN_LISTEN",
                       "HOST:PORT (default 127.0.0.1:8080)"};
const FlagSpec kAdmin{"--admin-token", true, "CAIRN_ADMIN_TOKEN",
                      "admin token (serve: generated when absent)"};
const FlagSpec kServer{"--server", true, nullptr,
                       "URL of a running server (default: the --listen one)"};

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"serve",
       "cairn serve [--data DIR] [--listen HOST:PORT] [--admin-token TOKEN] "
       "[--demo] [--static DIR] [--threads N] [--read-threads N] "
       "[--rate-limit N] [--quiet] [--plain-sends]",
       {kData,
        kListen,
        kAdmin,
        {"--demo", false, nullptr, "feed the demo company into an empty store"},
        {"--static", true, "CAIRN_STATIC", "browser files folder"},
        {"--threads", true, nullptr,
         "HTTP I/O threads, and as many live threads (default: cores)"},
        {"--read-threads", true, nullptr,
         "threads for heavy reads (as_of, diffs, boards, lists, live "
         "resumes), 0 = none (default: cores)"},
        {"--rate-limit", true, nullptr,
         "requests per second per token, 0 = off (default 200)"},
        {"--quiet", false, nullptr, "no access log"},
        {"--plain-sends", false, nullptr,
         "live updates: one send system call per message instead of "
         "batches through io_uring"}}},
      {"verify", "cairn verify [--data DIR]", {kData}},
      {"export",
       "cairn export [--data DIR] [--from POS]",
       {kData, {"--from", true, nullptr, "export events after POS"}}},
      {"import", "cairn import [--data DIR] < export.ndjson", {kData}},
      {"backup",
       "cairn backup --to DIR [--data DIR] [--server URL] [--admin-token T]",
       {kData,
        kListen,
        kAdmin,
        kServer,
        {"--to", true, nullptr, "folder for the copy (must not exist)"}}},
      {"token",
       "cairn token create --name NAME --role viewer|editor|admin [--unit U]\n"
       "       cairn token list\n"
       "       cairn token revoke NAME\n"
       "  (through a running server when one holds the store, else on it)",
       {kData,
        kListen,
        kAdmin,
        kServer,
        {"--name", true, nullptr, "token name"},
        {"--role", true, nullptr, "viewer, editor or admin"},
        {"--unit", true, nullptr, "scope the token to a unit's subtree"}}},
  };
  return kCommands;
}

struct Parsed {
  std::map<std::string, std::string> values;
  std::vector<std::string> positional;
  bool help = false;

  std::optional<std::string> Get(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  bool Has(const std::string& name) const { return values.count(name) != 0; }
};

class UsageError {
 public:
  explicit UsageError(std::string m) : message(std::move(m)) {}
  std::string message;
};

Parsed ParseFlags(const CommandSpec& spec, const std::vector<std::string>& args,
                  size_t first) {
  Parsed p;
  for (size_t i = first; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--help" || a == "-h") {
      p.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      p.positional.push_back(a);
      continue;
    }
    std::optional<std::string> inline_value;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    const FlagSpec* flag = nullptr;
    for (const FlagSpec& f : spec.flags) {
      if (a == f.name) flag = &f;
    }
    if (flag == nullptr) {
      throw UsageError("unknown flag " + a + " for `cairn " + spec.name +
                       "` (see cairn " + spec.name + " --help)");
    }
    if (!flag->takes_value) {
      if (inline_value) throw UsageError(a + " takes no value");
      p.values[a] = "1";
      continue;
    }
    if (inline_value) {
      p.values[a] = *inline_value;
    } else if (i + 1 < args.size()) {
      p.values[a] = args[++i];
    } else {
      throw UsageError(a + " needs a value");
    }
  }
  for (const FlagSpec& f : spec.flags) {
    if (f.env == nullptr || p.Has(f.name)) continue;
    if (const char* v = std::getenv(f.env); v != nullptr && *v != '\0') {
      p.values[f.name] = v;
    }
  }
  return p;
}

void PrintCommandHelp(const CommandSpec& spec, std::ostream& out) {
  out << "Usage: " << spec.usage << "\n\nFlags:\n";
  for (const FlagSpec& f : spec.flags) {
    out << "  " << f.name << (f.takes_value ? " VALUE" : "") << "  " << f.help;
    if (f.env != nullptr) out << " [env " << f.env << "]";
    out << "\n";
  }
}

uint64_t ParseUint(const std::string& flag, const std::string& v,
                   uint64_t max) {
  if (v.empty() || v.size() > 19 ||
      v.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError("bad value for " + flag + ": " + v +
                     " (a whole number is expected)");
  }
  uint64_t n = std::stoull(v);
  if (n > max) throw UsageError("bad value for " + flag + ": " + v);
  return n;
}

std::string DataDir(const Parsed& p) {
  return p.Get("--data").value_or("cairn-data");
}

void ParseListen(const Parsed& p, std::string& host, uint16_t& port) {
  std::string listen = p.Get("--listen").value_or("127.0.0.1:8080");
  if (!ParseHostPort(listen, host, port)) {
    throw UsageError("bad value for --listen: " + listen +
                     " (HOST:PORT expected)");
  }
}

// ---- serve ----

// Every connection is a file descriptor: raise the soft limit on open files
// to the hard one (Debian's soft default, 1,024, is below the 4,096
// connections the server admits), and say so when the limit stays below
// what the connections and the store need.
void RaiseOpenFileLimit(size_t connections, std::ostream& err) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  constexpr size_t kForTheStore = 256;  // RocksDB's files, epoll, io_uring
  if (lim.rlim_cur != RLIM_INFINITY &&
      lim.rlim_cur < connections + kForTheStore) {
    err << "cairn serve: the open files limit (" << lim.rlim_cur
        << ") is below the connections admitted (" << connections
        << ") and the store's files; past it new connections wait until "
           "others close (raise it with ulimit -n)\n";
  }
}

int Serve(const Parsed& p, std::ostream& out, std::ostream& err) {
  ServerOptions o;
  o.data_dir = DataDir(p);
  ParseListen(p, o.host, o.port);
  o.demo = p.Has("--demo");
  o.static_dir = p.Get("--static").value_or(DefaultStaticDir());
  if (auto t = p.Get("--threads")) {
    o.io_threads = static_cast<unsigned>(ParseUint("--threads", *t, 256));
  }
  if (auto t = p.Get("--read-threads")) {
    o.read_threads = static_cast<int>(ParseUint("--read-threads", *t, 256));
  }
  if (auto r = p.Get("--rate-limit")) {
    o.rate_limit = static_cast<double>(ParseUint("--rate-limit", *r, 1000000));
    o.rate_burst = std::max(o.rate_limit * 2, 1.0);
  }
  o.access_log = !p.Has("--quiet");
  o.live_send_ring = !p.Has("--plain-sends");
  bool generated = false;
  o.admin_token = p.Get("--admin-token").value_or("");
  if (o.admin_token.empty()) {
    o.admin_token = NewTokenSecret();
    generated = true;
  }
  RaiseOpenFileLimit(o.max_connections, err);
  // Signals are taken by sigwait below; block them before threads start.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto server = Server::Start(o);
  if (!server) {
    err << "cairn serve: " << server.error().message << "\n";
    return 1;
  }
  out << "Cairn is serving " << (*server)->url() << "/\n"
      << "Admin token" << (generated ? " (generated)" : "") << ": "
      << o.admin_token << "\n"
      << "Data: " << o.data_dir << "  Static: " << o.static_dir << "\n"
      << std::flush;
  int sig = 0;
  sigwait(&signals, &sig);
  out << "cairn: stopping (" << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ")\n"
      << std::flush;
  (*server)->Stop();
  return 0;
}

// ---- store tools ----

Result<std::unique_ptr<eventstore::EventStore>> OpenStore(
    const std::string& dir, bool read_only, bool create) {
  eventstore::Options o;
  o.path = dir;
  o.read_only = read_only;
  o.create_if_missing = create;
  return eventstore::EventStore::Open(o);
}

int Verify(const Parsed& p, std::ostream& out) {
  return eventstore::RunVerify(DataDir(p), out);
}

int Export(const Parsed& p, std::ostream& out, std::ostream& err) {
  uint64_t from = 0;
  if (auto f = p.Get("--from")) from = ParseUint("--from", *f, UINT64_MAX);
  auto store = OpenStore(DataDir(p), /*read_only=*/true, /*create=*/false);
  if (!store) {
    err << "cairn export: " << store.error().message << "\n";
    return 1;
  }
  Status st = eventstore::ExportNdjson(**store, from, out);
  if (!st) {
    err << "cairn export: " << st.error().message << "\n";
    return 1;
  }
  return 0;
}

int Import(const Parsed& p, std::istream& in, std::ostream& out,
           std::ostream& err) {
  auto store = OpenStore(DataDir(p), false, true);
  if (!store) {
    err << "cairn import: " << store.error().message << "\n";
    return 1;
  }
  Status st = eventstore::ImportNdjson(
      **store, in, [&](uint64_t n) { out << "imported " << n << " events\n"; });
  if (!st) {
    err << "cairn import: " << st.error().message << "\n";
    return 1;
  }
  out << "import done; head " << (*store)->Head() << "\n";
  return 0;
}

// The running server to talk to, when the store is held by one: --server,
// else --listen/CAIRN_LISTEN. nullopt when the store can be opened here.
struct Remote {
  std::string host;
  uint16_t port = 0;
  std::string token;
};

std::optional<Remote> RemoteFor(const Parsed& p,
                                std::unique_ptr<eventstore::EventStore>& store,
                                std::ostream& err, bool& failed) {
  failed = false;
  if (!p.Has("--server")) {
    auto opened = OpenStore(DataDir(p), false, true);
    if (opened) {
      store = std::move(*opened);
      return std::nullopt;
    }
    if (opened.error().code != ErrorCode::kUnavailable) {
      err << "cairn: " << opened.error().message << "\n";
      failed = true;
      return std::nullopt;
    }
  }
  Remote r;
  std::string url =
      p.Get("--server").value_or(p.Get("--listen").value_or("127.0.0.1:8080"));
  if (!ParseHostPort(url, r.host, r.port)) {
    throw UsageError("bad value for --server: " + url);
  }
  r.token = p.Get("--admin-token").value_or("");
  if (r.token.empty()) {
    err << "cairn: the store is held by a running server; give its admin "
           "token with --admin-token or CAIRN_ADMIN_TOKEN\n";
    failed = true;
    return std::nullopt;
  }
  return r;
}

ClientResponse CallServer(const Remote& r, const std::string& method,
                          const std::string& target, const std::string& body) {
  HttpClient client(r.host, r.port);
  return client.Send(method, target, body,
                     {{"Authorization", "Bearer " + r.token}});
}

int ReportRemote(const ClientResponse& res, std::ostream& out,
                 std::ostream& err) {
  if (res.status == 0) {
    err << "cairn: " << res.error << "\n";
    return 1;
  }
  if (res.status >= 300) {
    err << "cairn: server answered " << res.status << ": " << res.body << "\n";
    return 1;
  }
  out << res.body << "\n";
  return 0;
}

int Backup(const Parsed& p, std::ostream& out, std::ostream& err) {
  auto to = p.Get("--to");
  if (!to || to->empty()) throw UsageError("cairn backup needs --to DIR");
  std::unique_ptr<eventstore::EventStore> store;
  bool failed = false;
  auto remote = RemoteFor(p, store, err, failed);
  if (failed) return 1;
  if (remote) {
    JsonWriter w;
    w.BeginObject().Key("to").String(fs::absolute(*to).string()).EndObject();
    return ReportRemote(
        CallServer(*remote, "POST", "/api/v1/admin/backup", w.str()), out, err);
  }
  Status st = store->Backup(*to);
  if (!st) {
    err << "cairn backup: " << st.error().message << "\n";
    return 1;
  }
  out << "backup of " << store->Head() << " events written to " << *to << "\n";
  return 0;
}

// Runs one token command on a store no server holds, through a Sequencer.
int TokenOnStore(eventstore::EventStore& store, Command command,
                 const std::string& secret, std::ostream& out,
                 std::ostream& err) {
  Sequencer seq(store, nullptr, nullptr);
  if (Status st = seq.Start(); !st) {
    err << "cairn token: " << st.error().message << "\n";
    return 1;
  }
  std::promise<Response> promise;
  auto future = promise.get_future();
  WriteRequest w;
  w.command = std::move(command);
  w.ctx.actor = "cli";
  w.ctx.role = Role::kAdmin;
  w.render = [](const State&, const std::vector<Event>&) { return Response{}; };
  w.done = [&promise](Response r) { promise.set_value(std::move(r)); };
  seq.Submit(std::move(w));
  Response r = future.get();
  seq.Stop();
  if (r.status >= 300) {
    err << "cairn token: " << r.body << "\n";
    return 1;
  }
  if (!secret.empty()) out << secret << "\n";
  return 0;
}

int Token(const Parsed& p, std::ostream& out, std::ostream& err) {
  if (p.positional.empty()) {
    throw UsageError("cairn token needs create, list or revoke");
  }
  const std::string& action = p.positional[0];
  if (action != "create" && action != "list" && action != "revoke") {
    throw UsageError("unknown token action " + action +
                     " (create, list or revoke)");
  }
  std::string name =
      p.Get("--name").value_or(p.positional.size() > 1 ? p.positional[1] : "");
  std::string role = p.Get("--role").value_or("");
  std::string unit = p.Get("--unit").value_or("");
  if (action != "list" && name.empty()) {
    throw UsageError("cairn token " + action + " needs a name (--name NAME)");
  }
  if (action == "create" && !ParseRole(role)) {
    throw UsageError("bad value for --role: '" + role +
                     "' (viewer, editor or admin)");
  }
  std::unique_ptr<eventstore::EventStore> store;
  bool failed = false;
  auto remote = RemoteFor(p, store, err, failed);
  if (failed) return 1;
  if (remote) {
    if (action == "list") {
      return ReportRemote(CallServer(*remote, "GET", "/api/v1/tokens", ""), out,
                          err);
    }
    if (action == "revoke") {
      return ReportRemote(
          CallServer(*remote, "DELETE", "/api/v1/tokens/" + name, ""), out,
          err);
    }
    JsonWriter w;
    w.BeginObject().Key("name").String(name).Key("role").String(role);
    if (!unit.empty()) w.Key("unit").String(unit);
    w.EndObject();
    return ReportRemote(CallServer(*remote, "POST", "/api/v1/tokens", w.str()),
                        out, err);
  }
  if (action == "list") {
    auto state = ReplayState(*store, store->Head());
    if (!state) {
      err << "cairn token: " << state.error().message << "\n";
      return 1;
    }
    for (const auto& [n, t] : (*state)->tokens) {
      out << n << "\t" << RoleName(t.role) << "\t"
          << (t.unit.empty() ? "-" : t.unit) << (t.revoked ? "\trevoked" : "")
          << "\n";
    }
    return 0;
  }
  if (action == "revoke") {
    return TokenOnStore(*store, RevokeToken{.name = name}, "", out, err);
  }
  std::string secret = NewTokenSecret();
  CreateToken c{.name = name,
                .role = ParseRole(role),
                .unit = unit,
                .secret_hash = Sha256Hex(secret)};
  return TokenOnStore(*store, std::move(c), secret, out, err);
}

}  // namespace

std::string DefaultStaticDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path() / "web-static");
    candidates.push_back(exe.parent_path() / "web-static");
    candidates.push_back(exe.parent_path().parent_path().parent_path() /
                         "web-static");
  }
  candidates.push_back(fs::current_path(ec) / "web-static");
#ifdef CAIRN_SOURCE_DIR
  candidates.push_back(fs::path(CAIRN_SOURCE_DIR) / "web-static");
#endif
  for (const fs::path& c : candidates) {
    if (fs::is_directory(c, ec)) return fs::weakly_canonical(c, ec).string();
  }
  return "web-static";
}

int RunCli(const std::vector<std::string>& args, std::istream& in,
           std::ostream& out, std::ostream& err) {
  if (args.size() < 2) {
    err << kUsage;
    return 2;
  }
  const std::string& sub = args[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    out << kUsage;
    return 0;
  }
  if (sub == "--version" || sub == "version") {
    out << "cairn " << CAIRN_VERSION << "\n";
    return 0;
  }
  const CommandSpec* spec = nullptr;
  for (const CommandSpec& c : Commands()) {
    if (sub == c.name) spec = &c;
  }
  if (spec == nullptr) {
    err << "cairn: unknown command '" << sub << "' (see cairn --help)\n";
    return 2;
  }
  try {
    Parsed p = ParseFlags(*spec, args, 2);
    if (p.help) {
      PrintCommandHelp(*spec, out);
      return 0;
    }
    std::string name = spec->name;
    if (name != "token" && !p.positional.empty()) {
      throw UsageError("unexpected argument '" + p.positional[0] + "'");
    }
    if (name == "serve") return Serve(p, out, err);
    if (name == "verify") return Verify(p, out);
    if (name == "export") return Export(p, out, err);
    if (name == "import") return Import(p, in, out, err);
    if (name == "backup") return Backup(p, out, err);
    return Token(p, out, err);
  } catch (const UsageError& e) {
    err << "cairn " << sub << ": " << e.message << "\n";
    return 2;
  }
}

int RunCli(int argc, char** argv) {
  TuneAllocator();
  std::vector<std::string> args(argv, argv + argc);
  return RunCli(args, std::cin, std::cout, std::cerr);
}

}  // namespace cairn::gateway
