#include "server_metrics.hpp"

#include "cairn/core/json_writer.hpp"

namespace cairn::gateway {

namespace {

template <size_t N, typename H>
void Observe(const std::array<double, N>& bounds, H& h, double v) {
  for (size_t i = 0; i < N; ++i) {
    if (v <= bounds[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += v;
}

std::string Num(double d) {
  std::string s;
  JsonWriter::AppendNumber(s, d);
  return s;
}

template <size_t N, typename H>
void WriteHistogram(std::string& out, const std::string& name,
                    const std::string& labels,
                    const std::array<double, N>& bounds, const H& h) {
  std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < N; ++i) {
    out += name + "_bucket{" + labels + sep + "le=\"" + Num(bounds[i]) +
           "\"} " + std::to_string(h.counts[i]) + "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " +
         std::to_string(h.count) + "\n";
  std::string lb = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + lb + " " + Num(h.sum) + "\n";
  out += name + "_count" + lb + " " + std::to_string(h.count) + "\n";
}

}  // namespace

void AppendHelp(std::string& out, const char* name, const char* help,
                const char* type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void AppendFamily(
    std::string& out, const char* name, const char* help, const char* type,
    const char* label,
    const std::vector<std::pair<std::string, uint64_t>>& samples) {
  AppendHelp(out, name, help, type);
  for (const auto& [label_value, value] : samples) {
    out += name;
    if (*label != '\0') {
      out += '{';
      out += label;
      out += "=\"";
      out += label_value;
      out += "\"}";
    }
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  }
}

void AppendGauge(std::string& out, const char* name, const char* help,
                 uint64_t value) {
  AppendFamily(out, name, help, "gauge", "", {{"", value}});
}

void ServerMetrics::RecordRequest(const std::string& route, unsigned status,
                                  double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  Observe(kLatencyBuckets, latency_[route], seconds);
}

void ServerMetrics::RecordAppend(size_t batch_size, double seconds) {
  std::lock_guard lock(mu_);
  Observe(kBatchBuckets, batch_sizes_, static_cast<double>(batch_size));
  Observe(kLatencyBuckets, append_latency_, seconds);
}

void ServerMetrics::RecordWritePhases(const std::vector<double>& queued,
                                      const std::vector<double>& waiting,
                                      const std::vector<double>& answering) {
  std::lock_guard lock(mu_);
  for (double v : queued) Observe(kPhaseBuckets, write_phases_[0], v);
  for (double v : waiting) Observe(kPhaseBuckets, write_phases_[1], v);
  for (double v : answering) Observe(kPhaseBuckets, write_phases_[2], v);
}

std::string ServerMetrics::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  AppendHelp(out, "cairn_http_requests_total",
             "HTTP requests by route and status.", "counter");
  for (const auto& [key, n] : requests_) {
    out += "cairn_http_requests_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  AppendHelp(out, "cairn_http_request_duration_seconds",
             "Request latency by route.", "histogram");
  for (const auto& [route, h] : latency_) {
    WriteHistogram(out, "cairn_http_request_duration_seconds",
                   "route=\"" + route + "\"", kLatencyBuckets, h);
  }
  AppendHelp(out, "cairn_append_batch_size",
             "Commands written per append (one fsync).", "histogram");
  WriteHistogram(out, "cairn_append_batch_size", "", kBatchBuckets,
                 batch_sizes_);
  AppendHelp(out, "cairn_append_duration_seconds", "Synced append latency.",
             "histogram");
  WriteHistogram(out, "cairn_append_duration_seconds", "", kLatencyBuckets,
                 append_latency_);
  AppendHelp(out, "cairn_write_phase_seconds",
             "Per write request: queued (until the writer decides it), "
             "waiting (until its batch is handed to the committer), "
             "answering (from the write's return to the reply).",
             "histogram");
  constexpr std::array<const char*, 3> kPhases = {"queued", "waiting",
                                                  "answering"};
  for (size_t i = 0; i < kPhases.size(); ++i) {
    WriteHistogram(out, "cairn_write_phase_seconds",
                   std::string("phase=\"") + kPhases[i] + "\"", kPhaseBuckets,
                   write_phases_[i]);
  }
  AppendGauge(out, "cairn_http_connections", "Live HTTP connections.",
              connections_.load());
  AppendGauge(out, "cairn_websocket_connections", "Live WebSocket connections.",
              websockets_.load());
  AppendGauge(out, "cairn_live_batched_sends",
              "1 when live updates are sent in batches through io_uring, 0 "
              "when one send call per message.",
              live_batched_sends_.load() ? 1 : 0);
  AppendGauge(out, "cairn_log_head", "Position of the last event.",
              head_.load());
  AppendFamily(out, "cairn_state_copies_total",
               "Batches for which the writer copied the whole State (no "
               "recycled State was free).",
               "counter", "", {{"", state_copies_.load()}});
  return out;
}

}  // namespace cairn::gateway
