#include "allocator.hpp"

#include <malloc.h>

#ifdef CAIRN_WITH_JEMALLOC
// jemalloc's options, read once at start-up. By default it hands pages freed
// for 10 s back to the system, and an as_of query's snapshot buffers then
// fault in again: bench/asof (400 partial board queries on 1,000,000
// events, alternating runs) had p99 36-56 ms by default, 26-43 ms at 30 s,
// 19-25 ms when freed pages stay for reuse, as here. The process's RSS stays
// at its peak, as with the glibc tuning below. MALLOC_CONF still overrides.
extern "C" {
const char* malloc_conf = "dirty_decay_ms:-1";
}
#endif

namespace cairn::gateway {

void TuneAllocator() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
}

}  // namespace cairn::gateway
