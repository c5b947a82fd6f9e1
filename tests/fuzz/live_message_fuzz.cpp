// Fuzzes the live WebSocket protocol's client message parser
// (gateway/src/live_message.hpp): any text frame either fails with bad_json
// or validation_failed, or is a message whose members keep their limits.
// The error and reply frames written for it must be valid JSON objects.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cairn/core/event.hpp"
#include "live_message.hpp"

namespace {

using cairn::gateway::ClientMessage;

void MustBeJsonObject(const std::string& text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    std::abort();
  }
}

bool PrintableSubId(std::string_view s) {
  if (s.empty() || s.size() > cairn::gateway::kMaxSubIdBytes) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string sub;
  auto m = cairn::gateway::ParseClientMessage(text, &sub);
  if (!sub.empty() && !PrintableSubId(sub)) std::abort();
  if (!m) {
    const cairn::Error& e = m.error();
    if (e.code != cairn::ErrorCode::kBadJson &&
        e.code != cairn::ErrorCode::kValidationFailed) {
      std::abort();
    }
    MustBeJsonObject(cairn::gateway::WriteError(e, sub));
    return 0;
  }
  // Without sub_out the parser gives the same answer.
  auto again = cairn::gateway::ParseClientMessage(text);
  if (!again || again->op != m->op || again->sub != m->sub) std::abort();

  switch (m->op) {
    case ClientMessage::Op::kPing:
      MustBeJsonObject(cairn::gateway::WritePong());
      break;
    case ClientMessage::Op::kUnsubscribe:
      if (!PrintableSubId(m->sub)) std::abort();
      break;
    case ClientMessage::Op::kSubscribe: {
      if (!PrintableSubId(m->sub)) std::abort();
      if (!cairn::IsValidId(m->filter.unit)) std::abort();
      if (!m->filter.cycle.empty() && !cairn::IsValidId(m->filter.cycle)) {
        std::abort();
      }
      if (m->filter.depth < -1 || m->filter.depth > cairn::gateway::kMaxDepth) {
        std::abort();
      }
      if (m->epoch.size() > 128) std::abort();
      MustBeJsonObject(
          cairn::gateway::WriteSynced(m->sub, m->from.value_or(0), m->epoch));
      // The filter must be usable on any event without crashing.
      cairn::gateway::LiveTouch where;
      where.units = {m->filter.unit, "root"};
      where.cycle = m->filter.cycle;
      if (!cairn::gateway::InScope(m->filter, where)) std::abort();
      cairn::gateway::LiveEvent event;
      event.position = m->from.value_or(0) + 1;
      event.envelope = "{}";
      event.touches.push_back(where);
      if (!cairn::gateway::Matches(m->filter, event)) std::abort();
      MustBeJsonObject(
          cairn::gateway::WriteEventMessage(m->sub, m->filter, event));
      break;
    }
  }
  return 0;
}
