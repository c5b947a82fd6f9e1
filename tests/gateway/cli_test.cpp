// The command line: flags, exit codes, help and version.
#include "cli.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace cairn::gateway {
namespace {

int RunCairn(std::vector<std::string> args, std::string* out_text = nullptr,
             std::string* err_text = nullptr) {
  args.insert(args.begin(), "cairn");
  std::istringstream in;
  std::ostringstream out, err;
  int code = RunCli(args, in, out, err);
  if (out_text) *out_text = out.str();
  if (err_text) *err_text = err.str();
  return code;
}

TEST(CliTest, VersionAndHelp) {
  std::string out;
  EXPECT_EQ(RunCairn({"--version"}, &out), 0);
  EXPECT_EQ(out, std::string("cairn ") + CAIRN_VERSION + "\n");
  EXPECT_EQ(RunCairn({"--help"}, &out), 0);
  EXPECT_NE(out.find("serve"), std::string::npos);
  EXPECT_EQ(RunCairn({"serve", "--help"}, &out), 0);
  EXPECT_NE(out.find("--admin-token"), std::string::npos);
  EXPECT_NE(out.find("CAIRN_LISTEN"), std::string::npos);
  EXPECT_NE(out.find("--read-threads"), std::string::npos);
}

TEST(CliTest, BadFlagsAndValuesExitWithTwoAndOneLine) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"serve", "--bogus"},
        {"serve", "--listen", "no-port"},
        {"serve", "--listen", "127.0.0.1:99999"},
        {"serve", "--threads", "many"},
        {"serve", "--read-threads", "-1"},
        {"serve", "--data"},
        {"nosuch"},
        {"export", "--from", "-3"},
        {"token", "create", "--name", "x", "--role", "king"},
        {"backup"},
        {}}) {
    std::string err;
    EXPECT_EQ(RunCairn(args, nullptr, &err), 2)
        << (args.empty() ? "" : args[0]);
    if (!args.empty()) {
      EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    }
  }
}

}  // namespace
}  // namespace cairn::gateway
