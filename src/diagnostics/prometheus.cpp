// SPDX-License-Identifier: MIT
// to_prometheus: runtime_metrics in the text exposition format 0.0.4.
// Counters end in _total, durations are in seconds, every family has # HELP
// and # TYPE, so that `promtool check metrics` passes without a warning.
// Histograms keep a fixed set of buckets (1 µs .. ~69 s, powers of two), so
// that series do not appear and vanish between scrapes.
#include <weft/diagnostics.hpp>
#include <weft/runtime.hpp>

#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

namespace weft {

namespace {

// duration_histogram bucket i holds [2^i, 2^(i+1)) ns; these are the buckets
// whose upper bounds become `le` labels: 2^10 ns (~1 µs) to 2^36 ns (~69 s).
constexpr std::size_t first_bucket = 9;
constexpr std::size_t last_bucket = 35;

std::string number(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

std::string seconds(std::chrono::nanoseconds d) { return number(static_cast<double>(d.count()) / 1e9); }

// A label value as the text format wants it: \, " and newline escaped
// (pool names are the user's).
std::string label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

bool is_valid_prefix(std::string_view prefix) {
  if (prefix.empty()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = prefix[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

class writer {
public:
  explicit writer(std::string_view prefix) : prefix_(prefix) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    name_into(name);
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    name_into(name);
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::string_view name, std::string_view labels, const std::string& value) {
    name_into(name);
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  void gauge(std::string_view name, std::string_view help, std::uint64_t v) {
    family(name, "gauge", help);
    sample(name, {}, std::to_string(v));
  }

  void counter(std::string_view name, std::string_view help, std::uint64_t v) {
    family(name, "counter", help);
    sample(name, {}, std::to_string(v));
  }

  /// `labels` without braces, e.g. pool="blocking" (may be empty).
  void histogram_samples(std::string_view name, const std::string& labels, const duration_histogram& h) {
    const std::string sep = labels.empty() ? "" : ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < first_bucket; ++i) cumulative += h.buckets[i];
    const std::string bucket = std::string(name) + "_bucket";
    for (std::size_t i = first_bucket; i <= last_bucket; ++i) {
      cumulative += h.buckets[i];
      const double le = static_cast<double>(std::uint64_t{2} << i) / 1e9;
      sample(bucket, labels + sep + "le=\"" + number(le) + "\"", std::to_string(cumulative));
    }
    sample(bucket, labels + sep + "le=\"+Inf\"", std::to_string(h.count));
    sample(std::string(name) + "_sum", labels, seconds(h.sum));
    sample(std::string(name) + "_count", labels, std::to_string(h.count));
  }

  std::string take() { return std::move(out_); }

private:
  void name_into(std::string_view name) {
    out_ += prefix_;
    out_ += '_';
    out_ += name;
  }
  std::string_view prefix_;
  std::string out_;
};

}  // namespace

std::string to_prometheus(const runtime_metrics& m, std::string_view prefix) {
  if (!is_valid_prefix(prefix))
    throw std::invalid_argument("weft: to_prometheus: \"" + std::string(prefix) +
                                "\" is not a metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)");
  writer w(prefix);
  // Runtime-wide.
  w.gauge("workers", "Async worker threads.", m.workers);
  w.gauge("blocking_threads", "Threads of the default blocking pool alive now.", m.blocking_threads);
  w.gauge("idle_blocking_threads", "Threads of the default blocking pool waiting for work.", m.idle_blocking_threads);
  w.gauge("blocking_queue_depth", "Blocking jobs queued in the default pool, not yet started.", m.blocking_queue_depth);
  w.counter("spawned_tasks_total", "Async tasks ever spawned.", m.spawned_tasks);
  w.counter("spawned_blocking_tasks_total", "Blocking jobs ever spawned.", m.spawned_blocking_tasks);
  w.counter("blocking_threads_started_total", "Blocking-pool threads ever started.", m.blocking_threads_started);
  w.counter("stalls_total", "Polls that ran longer than the stall threshold.", m.stalls);
  w.counter("long_blocking_jobs_total", "Blocking closures that ran longer than the long-blocking threshold.",
            m.long_blocking_jobs);
  w.family("blocking_queue_wait_seconds", "histogram", "Time from submit to start of each job of the default pool.");
  w.histogram_samples("blocking_queue_wait_seconds", "", m.blocking_queue_wait);
  w.family("blocking_run_time_seconds", "histogram", "How long each closure of the default pool ran.");
  w.histogram_samples("blocking_run_time_seconds", "", m.blocking_run_time);
  w.family("poll_time_seconds", "histogram", "Duration of each poll of an async task (opt-in).");
  w.histogram_samples("poll_time_seconds", "", m.poll_time);
  // Per pool (DESIGN §6, §8): every pool of runtime_metrics::pools, sorted
  // by name. A runtime_metrics without pools (one filled in by hand) gives
  // the default pool from its blocking_* fields.
  std::vector<pool_metrics> fallback;
  const std::vector<pool_metrics>* pools = &m.pools;
  if (pools->empty()) {
    pool_metrics blocking;
    blocking.name = "blocking";
    blocking.threads = m.blocking_threads;
    blocking.idle_threads = m.idle_blocking_threads;
    blocking.queue_depth = m.blocking_queue_depth;
    blocking.started_threads = m.blocking_threads_started;
    blocking.queue_wait = m.blocking_queue_wait;
    blocking.run_time = m.blocking_run_time;
    fallback.push_back(std::move(blocking));
    pools = &fallback;
  }
  std::vector<std::string> labels;
  labels.reserve(pools->size());
  for (const pool_metrics& p : *pools) labels.push_back("pool=\"" + label_value(p.name) + "\"");
  // One family at a time: the text format wants a family's samples together.
  const auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    w.family(name, type, help);
    for (std::size_t i = 0; i < pools->size(); ++i) w.sample(name, labels[i], std::to_string(value((*pools)[i])));
  };
  each("pool_threads", "gauge", "Threads of the pool alive now.", [](const pool_metrics& p) { return p.threads; });
  each("pool_idle_threads", "gauge", "Threads of the pool waiting for work.",
       [](const pool_metrics& p) { return p.idle_threads; });
  each("pool_queue_depth", "gauge", "Jobs queued in the pool, not yet started.",
       [](const pool_metrics& p) { return p.queue_depth; });
  each("pool_admit_waiters", "gauge", "Tasks suspended in admit on the pool's full queue.",
       [](const pool_metrics& p) { return p.admit_waiters; });
  each("pool_started_threads_total", "counter", "Threads of the pool ever started.",
       [](const pool_metrics& p) { return p.started_threads; });
  each("pool_completed_total", "counter", "Closures of the pool run to completion.",
       [](const pool_metrics& p) { return p.completed; });
  each("pool_rejected_total", "counter", "Jobs the pool refused: queue full, or waited past max_queue_wait.",
       [](const pool_metrics& p) { return p.rejected; });
  w.family("pool_queue_wait_seconds", "histogram", "Time from submit to start of each job of the pool.");
  for (std::size_t i = 0; i < pools->size(); ++i)
    w.histogram_samples("pool_queue_wait_seconds", labels[i], (*pools)[i].queue_wait);
  w.family("pool_run_time_seconds", "histogram", "How long each closure of the pool ran.");
  for (std::size_t i = 0; i < pools->size(); ++i)
    w.histogram_samples("pool_run_time_seconds", labels[i], (*pools)[i].run_time);
  return w.take();
}

}  // namespace weft
