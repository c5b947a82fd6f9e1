// Fuzzes the snapshot decoder (state_codec.hpp), which reads bytes back
// from the store's `snapshots` family: any bytes either fail cleanly or
// decode to a State that
// - re-encodes to bytes that decode to the same encoding again (a stable
//   round trip);
// - cut to one unit's part by DecodePartialState, holds what PartialCopy of
//   the whole State holds (when its entities are kept under their ids).
// (By-reference snapshots are decoded against an empty history source:
// their parser is covered for crashes; that they decode right against the
// State of a log is StateCodecTest's, since a fuzzed State need not be one
// a log could build.) Seeds (corpus/state_codec/) are snapshots of the
// unit tests' States: every field set, and random traffic in both formats.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cairn/core/partial_state.hpp"
#include "cairn/core/state_codec.hpp"

namespace {

// Whether every entity is kept under its own id, as in any State a log
// builds (the codec round-trips other keys too; PartialCopy keys by id).
template <typename Map>
bool KeyedByIds(const Map& entities) {
  for (const auto& [key, entity] : entities) {
    if (key != entity.id) return false;
  }
  return true;
}

bool KeyedByIds(const cairn::State& s) {
  return KeyedByIds(s.units) && KeyedByIds(s.goals) && KeyedByIds(s.metrics);
}

}  // namespace

// Aborts (the fuzzer's crash) naming the property that failed.
#define CHECK(cond)                                         \
  do {                                                      \
    if (!(cond)) {                                          \
      std::fprintf(stderr, "property failed: %s\n", #cond); \
      std::abort();                                         \
    }                                                       \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const State empty;
  // A by-reference snapshot needs a history source; an empty one refuses
  // every goal with check-ins, and must do so cleanly.
  Result<State> whole = DecodeState(in, &empty);
  const UnitsOf units_of = [](const State&) { return UnitSet{"sales"}; };
  PartialInfo info;
  Result<State> part = DecodePartialState(in, &empty, units_of, info);
  if (!whole.ok()) return 0;

  const std::string bytes = EncodeState(*whole);
  Result<State> again = DecodeState(bytes);
  CHECK(again.ok());
  CHECK(EncodeState(*again) == bytes);

  if (part.ok() && KeyedByIds(*whole)) {
    PartialInfo copied_info;
    State copied = PartialCopy(*whole, units_of, copied_info);
    CHECK(EncodeState(*part) == EncodeState(copied));
  }
  return 0;
}
