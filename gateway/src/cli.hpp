// The `cairn` command line.
//
//   int main(int argc, char** argv) { return cairn::gateway::RunCli(argc,
//   argv); }
//
// Subcommands: serve, verify, export, import, backup, token (create, list,
// revoke); `--help`, `--version`, `<sub> --help`. Unknown flags and bad
// values print one line on stderr and exit with 2. Flags fall back to the
// environment: CAIRN_DATA, CAIRN_LISTEN, CAIRN_ADMIN_TOKEN, CAIRN_STATIC.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace cairn::gateway {

// Runs the command line; returns the process exit code. `serve` blocks
// until SIGINT or SIGTERM.
int RunCli(int argc, char** argv);
// The same with explicit streams (for tests; `serve` is not testable here).
int RunCli(const std::vector<std::string>& args, std::istream& in,
           std::ostream& out, std::ostream& err);

// The default folder of the browser files: web-static/ next to the source
// tree, found relative to the executable (or the working directory).
std::string DefaultStaticDir();

}  // namespace cairn::gateway
