// Process-wide tuning of glibc's malloc for a server that reads snapshots of
// megabytes (TimeTravel) and RocksDB blocks of the same size.
//
//   int main(...) { cairn::gateway::TuneAllocator(); ... }
//
// By default glibc serves every allocation past its mmap threshold (128 KiB,
// raised as such blocks are freed, and reset whenever the heap top is
// trimmed) with a fresh mmap(), whose pages fault in one by one and go back
// to the system on free: an as_of query reading a 3 MB snapshot paid for
// that three times over. Measured with bench/asof (partial board queries on
// 1,000,000 events, alternating runs): p99 30 ms by default, 16-18 ms tuned.
//
// The default build links jemalloc (CMake option CAIRN_JEMALLOC; off under
// the sanitizers), which serves these sizes from reused extents by itself
// (set to keep freed pages, allocator.cpp): then glibc's settings below have
// no effect. They serve builds without it.
#pragma once

namespace cairn::gateway {

// Serves allocations up to 32 MiB (glibc's largest mmap threshold) from the
// heap and keeps up to 128 MiB of freed heap before trimming it. Call once,
// at start-up, before other threads run.
void TuneAllocator();

}  // namespace cairn::gateway
