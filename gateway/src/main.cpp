// The `cairn` executable: the command line (cli.hpp).
#include "cli.hpp"

int main(int argc, char** argv) { return cairn::gateway::RunCli(argc, argv); }
