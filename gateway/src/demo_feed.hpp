// `cairn serve --demo`: feeds the demo company (core's DemoCommands) through
// the Sequencer, exactly as requests would, on first start of an empty store.
#pragma once

#include "cairn/core/error.hpp"

namespace cairn::gateway {

class Sequencer;

// Submits every demo command as the admin and waits until all are durable.
// Fails with the first refused command's error.
Status FeedDemo(Sequencer& sequencer);

}  // namespace cairn::gateway
