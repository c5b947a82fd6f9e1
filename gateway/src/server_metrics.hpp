// The server's counters for `GET /metrics` (Prometheus text format 0.0.4):
// requests by route and status, request latency histograms by route,
// append batch sizes, append (fsync) latency, the write path's phases per
// request, live connections, WebSocket connections, whole-State copies by
// the writer. Thread-safe; each record takes one short lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cairn::gateway {

// Prometheus text exposition, for /metrics.
// A family's HELP and TYPE lines.
void AppendHelp(std::string& out, const char* name, const char* help,
                const char* type);
// A whole family: HELP, TYPE and one sample per (label value, value); with
// an empty `label`, samples without labels.
void AppendFamily(std::string& out, const char* name, const char* help,
                  const char* type, const char* label,
                  const std::vector<std::pair<std::string, uint64_t>>& samples);
// A gauge family of one unlabelled sample.
void AppendGauge(std::string& out, const char* name, const char* help,
                 uint64_t value);

class ServerMetrics {
 public:
  void RecordRequest(const std::string& route, unsigned status, double seconds);
  void RecordAppend(size_t batch_size, double seconds);
  // The write path's phases, per answered request of a batch, in seconds:
  // queued (from Submit to the writer deciding it), waiting (from then
  // until its batch was handed to the committer) and answering (from the
  // batch's write returning to its reply handed back). The write itself
  // is RecordAppend's. `waiting` and `answering` are empty for a batch
  // that wrote nothing.
  void RecordWritePhases(const std::vector<double>& queued,
                         const std::vector<double>& waiting,
                         const std::vector<double>& answering);
  void ConnectionOpened() { connections_.fetch_add(1); }
  void ConnectionClosed() { connections_.fetch_sub(1); }
  int64_t connections() const { return connections_.load(); }
  void SetWebSocketConnections(int64_t n) { websockets_.store(n); }
  void SetHead(uint64_t head) { head_.store(head); }
  // Whether live sessions send through io_uring (LiveShards::batched_sends).
  void SetLiveBatchedSends(bool on) { live_batched_sends_.store(on); }
  // The writer copied the whole State for a batch (no recycled one free).
  void StateCopied() { state_copies_.fetch_add(1); }

  // The whole exposition, text format.
  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kLatencyBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  static constexpr std::array<double, 11> kPhaseBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01,   0.025,   0.1,    0.5,   2.5};
  static constexpr std::array<double, 9> kBatchBuckets = {1,  2,  4,   8,  16,
                                                          32, 64, 128, 256};
  template <size_t N>
  struct Histogram {
    std::array<uint64_t, N> counts{};
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, uint64_t> requests_;
  std::map<std::string, Histogram<kLatencyBuckets.size()>> latency_;
  Histogram<kBatchBuckets.size()> batch_sizes_;
  Histogram<kLatencyBuckets.size()> append_latency_;
  // queued, waiting, answering (RecordWritePhases).
  std::array<Histogram<kPhaseBuckets.size()>, 3> write_phases_;
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> websockets_{0};
  std::atomic<uint64_t> head_{0};
  std::atomic<bool> live_batched_sends_{false};
  std::atomic<uint64_t> state_copies_{0};
};

}  // namespace cairn::gateway
