// Names a thread, as `top -H`, `ps -L`, perf and gdb show it. Called by the
// thread that starts it, so the name is set before Start() returns.
//
//   thread_ = std::thread([this] { Run(); });
//   NameThread(thread_, "cairn-writer");
//
// Linux keeps at most 15 characters; longer names are cut.
#pragma once

#include <pthread.h>

#include <string>
#include <thread>

namespace cairn::gateway {

inline void NameThread(std::thread& thread, const std::string& name) {
  pthread_setname_np(thread.native_handle(), name.substr(0, 15).c_str());
}

}  // namespace cairn::gateway
