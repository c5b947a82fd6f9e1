#include <cstdio>

int main() {
  std::puts("cairn " CAIRN_VERSION);
  return 0;
}
