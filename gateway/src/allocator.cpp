#include "allocator.hpp"

#include <malloc.h>

namespace cairn::gateway {

void TuneAllocator() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
}

}  // namespace cairn::gateway
