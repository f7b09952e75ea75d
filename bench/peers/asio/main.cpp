// Boost.Asio reference program for the workloads in weft's bench/README.md.
//
// The "status quo" C++ way of doing Tokio's spawn_blocking with Asio:
//   * async workers : one asio::io_context run by 2 std::threads
//   * blocking pool : one asio::thread_pool with a FIXED 64 threads
//                     (asio's pool cannot grow or shrink, has no keep-alive)
//   * spawn_blocking: async_spawn_blocking(pool, f, token), an
//                     async_initiate-based operation: the closure is posted to
//                     the thread_pool, and its result is dispatched back to the
//                     completion handler's associated executor (the
//                     io_context, for a coroutine awaiting with use_awaitable).
//   * handles       : spawn_blocking_handle(pool, f) returns a small one-shot
//                     shared state that can be awaited later (Boost 1.74 /
//                     Asio 1.18 has no experimental::promise or channel).
//
// Prints one JSON object per workload on stdout and nothing else.
// Usage: asio_anchor [--quick] [bench ...]

// <utility> must come before Asio: Boost 1.74's asio/awaitable.hpp uses
// std::exchange without including it (breaks with GCC >= 11).
#include <utility>

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr int kAsyncThreads = 2;
constexpr int kBlockingThreads = 64;  // asio::thread_pool is fixed-size
constexpr int kLoadClosures = 256;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "asio_anchor: %s\n", what);
  std::exit(1);
}

double us_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

// ---------------------------------------------------------------------------
// Runtime: freshly built for every workload.
// ---------------------------------------------------------------------------
struct Runtime {
  asio::io_context io{kAsyncThreads};
  // Declared after io so it is destroyed first: completions posted from the
  // pool always find the io_context alive.
  asio::thread_pool pool{kBlockingThreads};
  asio::executor_work_guard<asio::io_context::executor_type> guard{
      io.get_executor()};
  std::vector<std::thread> threads;
  bool down = false;

  Runtime() {
    for (int i = 0; i < kAsyncThreads; ++i)
      threads.emplace_back([this] { io.run(); });
  }

  // Normal teardown after a workload has finished: stop the async workers,
  // then let the blocking pool drain and join it.
  void shutdown() {
    if (down) return;
    down = true;
    guard.reset();
    io.stop();
    for (auto& t : threads) t.join();
    pool.join();
  }

  ~Runtime() { shutdown(); }
};

// ---------------------------------------------------------------------------
// spawn_blocking as an Asio asynchronous operation.
// ---------------------------------------------------------------------------
template <typename R>
struct blocking_signature {
  using type = void(std::exception_ptr, R);
};
template <>
struct blocking_signature<void> {
  using type = void(std::exception_ptr);
};

template <typename F, typename CompletionToken>
auto async_spawn_blocking(asio::thread_pool& pool, F&& f,
                          CompletionToken&& token) {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  return asio::async_initiate<CompletionToken,
                              typename blocking_signature<R>::type>(
      [](auto handler, asio::thread_pool::executor_type pool_ex, Fn fn) {
        // Keep the handler's executor (the io_context) busy while the job
        // is outstanding, as Asio composed operations do.
        auto io_ex = asio::prefer(asio::get_associated_executor(handler),
                                  asio::execution::outstanding_work.tracked);
        asio::post(pool_ex, [handler = std::move(handler), fn = std::move(fn),
                             io_ex = std::move(io_ex)]() mutable {
          std::exception_ptr e;
          if constexpr (std::is_void_v<R>) {
            try {
              fn();
            } catch (...) {
              e = std::current_exception();
            }
            asio::dispatch(io_ex, [h = std::move(handler), e]() mutable {
              h(e);
            });
          } else {
            R r{};
            try {
              r = fn();
            } catch (...) {
              e = std::current_exception();
            }
            asio::dispatch(io_ex, [h = std::move(handler), e,
                                   r = std::move(r)]() mutable {
              h(e, std::move(r));
            });
          }
        });
      },
      token, pool.get_executor(), std::forward<F>(f));
}

// ---------------------------------------------------------------------------
// One-shot completion slot: set once from any thread, awaited (at most) once.
// This is the "JoinHandle" that Asio 1.18 lacks. Lock-free: the setter and the
// waiter race on one atomic state word.
// ---------------------------------------------------------------------------
template <typename R>
class completion_slot {
 public:
  void set(std::exception_ptr e, R v) {
    error_ = e;
    value_ = std::move(v);
    if (state_.exchange(kReady, std::memory_order_acq_rel) == kWaiting)
      waiter_->complete(*this, /*may_run_inline=*/true);
  }

  bool is_ready() const {
    return state_.load(std::memory_order_acquire) == kReady;
  }

  // Only after is_ready() returned true.
  R take() {
    if (error_) std::rethrow_exception(error_);
    return std::move(value_);
  }

  template <typename CompletionToken>
  auto async_wait(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken,
                                void(std::exception_ptr, R)>(
        [this](auto handler) {
          using H = decltype(handler);
          waiter_ = std::make_unique<waiter<H>>(std::move(handler));
          int expected = kEmpty;
          if (!state_.compare_exchange_strong(expected, kWaiting,
                                              std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
            // Already set: complete now, but never inside the initiation.
            waiter_->complete(*this, /*may_run_inline=*/false);
          }
        },
        token);
  }

 private:
  enum : int { kEmpty = 0, kWaiting = 1, kReady = 2 };

  struct waiter_base {
    virtual void complete(completion_slot& s, bool may_run_inline) = 0;
    virtual ~waiter_base() = default;
  };

  template <typename H>
  struct waiter final : waiter_base {
    using ex_t = std::decay_t<decltype(asio::prefer(
        asio::get_associated_executor(std::declval<H&>()),
        asio::execution::outstanding_work.tracked))>;
    H handler;
    ex_t ex;
    explicit waiter(H h)
        : handler(std::move(h)),
          ex(asio::prefer(asio::get_associated_executor(handler),
                          asio::execution::outstanding_work.tracked)) {}
    void complete(completion_slot& s, bool may_run_inline) override {
      auto fn = [h = std::move(handler), e = s.error_,
                 v = std::move(s.value_)]() mutable { h(e, std::move(v)); };
      if (may_run_inline)
        asio::dispatch(ex, std::move(fn));
      else
        asio::post(ex, std::move(fn));
    }
  };

  std::atomic<int> state_{kEmpty};
  std::exception_ptr error_;
  R value_{};
  std::unique_ptr<waiter_base> waiter_;
};

template <typename R>
using blocking_handle = std::shared_ptr<completion_slot<R>>;

// spawn_blocking that returns a handle to be awaited later.
template <typename F>
auto spawn_blocking_handle(asio::thread_pool& pool, F f) {
  using R = std::invoke_result_t<F&>;
  auto slot = std::make_shared<completion_slot<R>>();
  asio::post(pool, [slot, f = std::move(f)]() mutable {
    std::exception_ptr e;
    R r{};
    try {
      r = f();
    } catch (...) {
      e = std::current_exception();
    }
    slot->set(e, std::move(r));
  });
  return blocking_handle<R>(std::move(slot));
}

// Await a handle (no suspension if it already completed).
#define JOIN_HANDLE(out, h)                                      \
  do {                                                           \
    if ((h)->is_ready())                                         \
      (out) = (h)->take();                                       \
    else                                                         \
      (out) = co_await (h)->async_wait(asio::use_awaitable);     \
  } while (0)

// Countdown latch awaitable from a coroutine.
struct countdown {
  explicit countdown(std::size_t n) : remaining(n) {
    if (n == 0) done.set(nullptr, 0);
  }
  void count_down() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
      done.set(nullptr, 0);
  }
  std::atomic<std::size_t> remaining;
  completion_slot<int> done;
};

// ---------------------------------------------------------------------------
// Output helpers.
// ---------------------------------------------------------------------------
struct Json {
  std::string s;
  Json(const char* bench) {
    s = std::string("{\"bench\":\"") + bench + "\",\"impl\":\"asio\"";
  }
  Json& num(const char* k, double v, int prec = 3) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    s += std::string(",\"") + k + "\":" + buf;
    return *this;
  }
  Json& integer(const char* k, long long v) {
    s += std::string(",\"") + k + "\":" + std::to_string(v);
    return *this;
  }
  Json& str(const char* k, const char* v) {
    s += std::string(",\"") + k + "\":\"" + v + "\"";
    return *this;
  }
  void emit() {
    integer("blocking_threads", kBlockingThreads);
    s += "}\n";
    std::fputs(s.c_str(), stdout);
    std::fflush(stdout);
  }
};

struct Stats {
  double p50, p99, mean, max;
};

Stats stats(std::vector<double> v) {
  if (v.empty()) die("no samples");
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {
    auto k = static_cast<std::size_t>(std::ceil(p * double(v.size())));
    if (k == 0) k = 1;
    return v[k - 1];
  };
  double sum = 0;
  for (double x : v) sum += x;
  return {rank(0.50), rank(0.99), sum / double(v.size()), v.back()};
}

template <typename T>
T run_on(Runtime& rt, asio::awaitable<T> a) {
  return asio::co_spawn(rt.io, std::move(a), asio::use_future).get();
}

// ---------------------------------------------------------------------------
// Blocking load: keeps 256 closures (each sleeping 50 ms) outstanding on the
// blocking pool. 256 async tasks each loop `co_await spawn_blocking(sleep)`,
// so a fresh closure is submitted each time one finishes. With the fixed
// 64-thread pool that is 64 running + 192 queued at all times.
// ---------------------------------------------------------------------------
class blocking_load {
 public:
  explicit blocking_load(Runtime& rt) : rt_(rt) {}

  void start() {
    for (int i = 0; i < kLoadClosures; ++i)
      asio::co_spawn(rt_.io, loader(),
                     [this](std::exception_ptr) { done_.count_down(); });
    // Wait until every pool thread is busy.
    auto deadline = Clock::now() + 5s;
    while (running_.load() < kBlockingThreads && Clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    if (running_.load() < kBlockingThreads) die("blocking load did not start");
  }

  // Stop resubmitting and wait for every outstanding closure to finish.
  void stop() {
    stop_.store(true);
    done_.wait();
  }

  std::uint64_t completed() const { return completed_.load(); }

 private:
  asio::awaitable<void> loader() {
    while (!stop_.load(std::memory_order_relaxed)) {
      co_await async_spawn_blocking(
          rt_.pool,
          [this] {
            running_.fetch_add(1);
            std::this_thread::sleep_for(50ms);
            running_.fetch_sub(1);
            completed_.fetch_add(1, std::memory_order_relaxed);
          },
          asio::use_awaitable);
    }
  }

  Runtime& rt_;
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::latch done_{kLoadClosures};
};

// ---------------------------------------------------------------------------
// Workloads.
// ---------------------------------------------------------------------------

// blocking_throughput: spawn N handles, then await all in order, check sum.
asio::awaitable<double> blocking_throughput_task(Runtime& rt, std::uint64_t n) {
  std::vector<blocking_handle<std::uint64_t>> handles;
  handles.reserve(n);
  auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i)
    handles.push_back(spawn_blocking_handle(rt.pool, [i] { return i; }));
  std::uint64_t sum = 0;
  for (auto& h : handles) {
    std::uint64_t v = 0;
    JOIN_HANDLE(v, h);
    sum += v;
  }
  auto t1 = Clock::now();
  if (sum != n * (n - 1) / 2) die("blocking_throughput: bad sum");
  co_return double(n) / (us_since(t0, t1) / 1e6);
}

void bench_blocking_throughput(bool quick) {
  std::uint64_t n = quick ? 20'000 : 200'000;
  Runtime rt;
  double ops = run_on(rt, blocking_throughput_task(rt, n));
  rt.shutdown();
  Json("blocking_throughput").num("ops_per_s", ops, 1).emit();
}

// blocking_roundtrip: sequential `co_await spawn_blocking(trivial)`.
asio::awaitable<std::vector<double>> blocking_roundtrip_task(Runtime& rt,
                                                             int n) {
  std::vector<double> lat;
  lat.reserve(n);
  std::uint64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    std::uint64_t v = co_await async_spawn_blocking(
        rt.pool, [i] { return std::uint64_t(i); }, asio::use_awaitable);
    auto t1 = Clock::now();
    sum += v;
    lat.push_back(us_since(t0, t1));
  }
  if (sum != std::uint64_t(n) * std::uint64_t(n - 1) / 2)
    die("blocking_roundtrip: bad sum");
  co_return lat;
}

void bench_blocking_roundtrip(bool quick) {
  int n = quick ? 2'000 : 20'000;
  Runtime rt;
  auto s = stats(run_on(rt, blocking_roundtrip_task(rt, n)));
  rt.shutdown();
  Json("blocking_roundtrip")
      .num("p50_us", s.p50)
      .num("p99_us", s.p99)
      .num("mean_us", s.mean)
      .emit();
}

// spawn_throughput: co_spawn N trivial awaitables; each completion handler
// stores the result in its slot and counts down; await the count, then sum.
asio::awaitable<std::uint64_t> return_index(std::uint64_t i) { co_return i; }

asio::awaitable<double> spawn_throughput_task(std::uint64_t n) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<std::uint64_t> results(n);
  std::atomic<bool> failed{false};
  countdown cd(n);
  auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    asio::co_spawn(ex, return_index(i),
                   [&results, &cd, &failed, i](std::exception_ptr e,
                                               std::uint64_t v) {
                     if (e) failed.store(true);
                     results[i] = v;
                     cd.count_down();
                   });
  }
  int dummy = 0;
  JOIN_HANDLE(dummy, (&cd.done));
  (void)dummy;
  std::uint64_t sum = 0;
  for (auto v : results) sum += v;
  auto t1 = Clock::now();
  if (failed.load() || sum != n * (n - 1) / 2)
    die("spawn_throughput: bad sum");
  co_return double(n) / (us_since(t0, t1) / 1e6);
}

void bench_spawn_throughput(bool quick) {
  std::uint64_t n = quick ? 100'000 : 1'000'000;
  Runtime rt;
  double ops = run_on(rt, spawn_throughput_task(n));
  rt.shutdown();
  Json("spawn_throughput").num("ops_per_s", ops, 1).emit();
}

// timer_idle / timer_under_blocking_load: sequential 1 ms steady_timer waits.
asio::awaitable<std::vector<double>> timer_task(int n) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  std::vector<double> late;
  late.reserve(n);
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    t.expires_after(1ms);
    co_await t.async_wait(asio::use_awaitable);
    late.push_back(us_since(t0, Clock::now()) - 1000.0);
  }
  co_return late;
}

void emit_timer(const char* name, const Stats& s) {
  Json(name)
      .num("p50_us", s.p50)
      .num("p99_us", s.p99)
      .num("max_us", s.max)
      .emit();
}

void bench_timer_idle(bool quick) {
  int n = quick ? 100 : 1'000;
  Runtime rt;
  auto s = stats(run_on(rt, timer_task(n)));
  rt.shutdown();
  emit_timer("timer_idle", s);
}

void bench_timer_under_blocking_load(bool quick) {
  int n = quick ? 100 : 1'000;
  Runtime rt;
  blocking_load load(rt);
  load.start();
  auto s = stats(run_on(rt, timer_task(n)));
  load.stop();
  rt.shutdown();
  emit_timer("timer_under_blocking_load", s);
}

// echo_under_blocking_load.
asio::awaitable<void> echo_serve_one(tcp::acceptor& acceptor) {
  tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
  s.set_option(tcp::no_delay(true));
  std::array<char, 1024> buf;
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = co_await s.async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(s, asio::buffer(buf.data(), n),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
}

std::vector<double> echo_client(unsigned short port, int n) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("client socket");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    die("client connect");
  std::vector<double> lat;
  lat.reserve(n);
  char out[64], in[64];
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 64; ++j) out[j] = char((i * 31 + j) & 0xff);
    auto t0 = Clock::now();
    for (std::size_t off = 0; off < sizeof out;) {
      ssize_t w = ::send(fd, out + off, sizeof out - off, MSG_NOSIGNAL);
      if (w <= 0) die("client send");
      off += std::size_t(w);
    }
    for (std::size_t off = 0; off < sizeof in;) {
      ssize_t r = ::recv(fd, in + off, sizeof in - off, 0);
      if (r <= 0) die("client recv");
      off += std::size_t(r);
    }
    auto t1 = Clock::now();
    if (std::memcmp(out, in, sizeof out) != 0) die("echo mismatch");
    lat.push_back(us_since(t0, t1));
  }
  ::close(fd);
  return lat;
}

void bench_echo_under_blocking_load(bool quick) {
  int n = quick ? 1'000 : 10'000;
  Runtime rt;
  tcp::acceptor acceptor(rt.io,
                         tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  unsigned short port = acceptor.local_endpoint().port();
  auto served = asio::co_spawn(rt.io, echo_serve_one(acceptor), asio::use_future);
  blocking_load load(rt);
  load.start();
  std::vector<double> lat;
  std::thread client([&] { lat = echo_client(port, n); });
  client.join();
  served.get();  // server saw EOF
  load.stop();
  acceptor.close();
  rt.shutdown();
  auto s = stats(std::move(lat));
  Json("echo_under_blocking_load")
      .num("p50_us", s.p50)
      .num("p99_us", s.p99)
      .emit();
}

// burst_reuse: 10 bursts of 1,000 x sleep(1 ms), 100 ms between bursts.
struct burst_result {
  double wall_ms, bursts_ms;
};

asio::awaitable<burst_result> burst_task(Runtime& rt, int bursts, int per) {
  asio::steady_timer gap(co_await asio::this_coro::executor);
  std::vector<blocking_handle<int>> handles;
  handles.reserve(per);
  double bursts_ms = 0;
  auto t0 = Clock::now();
  for (int b = 0; b < bursts; ++b) {
    if (b > 0) {
      gap.expires_after(100ms);
      co_await gap.async_wait(asio::use_awaitable);
    }
    auto b0 = Clock::now();
    handles.clear();
    for (int j = 0; j < per; ++j)
      handles.push_back(spawn_blocking_handle(rt.pool, [] {
        std::this_thread::sleep_for(1ms);
        return 1;
      }));
    int done = 0;
    for (auto& h : handles) {
      int v = 0;
      JOIN_HANDLE(v, h);
      done += v;
    }
    if (done != per) die("burst_reuse: lost closures");
    bursts_ms += us_since(b0, Clock::now()) / 1000.0;
  }
  co_return burst_result{us_since(t0, Clock::now()) / 1000.0, bursts_ms};
}

void bench_burst_reuse(bool quick) {
  int per = quick ? 100 : 1'000;
  Runtime rt;
  auto r = run_on(rt, burst_task(rt, 10, per));
  rt.shutdown();
  Json("burst_reuse")
      .num("wall_ms", r.wall_ms)
      // asio::thread_pool spawns exactly its 64 threads at construction and
      // never more; this is that count, not a measurement of growth.
      .integer("threads_spawned", kBlockingThreads)
      .num("bursts_only_ms", r.bursts_ms)
      .emit();
}

// shutdown_bounded: Asio has no shutdown_timeout. A 10 s closure is running
// on the pool (awaited by a coroutine); time the idiomatic teardown:
// io.stop(), join the io threads, pool.stop(), pool.join().
void bench_shutdown_bounded(bool /*quick*/) {
  std::atomic<bool> started{false};
  double stop_ms = 0, wall_ms = 0;
  {
    Runtime rt;
    asio::co_spawn(
        rt.io,
        [&]() -> asio::awaitable<void> {
          co_await async_spawn_blocking(
              rt.pool,
              [&] {
                started.store(true);
                std::this_thread::sleep_for(10s);
              },
              asio::use_awaitable);
        },
        asio::detached);
    while (!started.load()) std::this_thread::sleep_for(1ms);

    auto t0 = Clock::now();
    rt.down = true;
    rt.guard.reset();
    rt.io.stop();
    for (auto& t : rt.threads) t.join();
    rt.pool.stop();  // returns at once; the busy thread keeps sleeping
    auto t1 = Clock::now();
    rt.pool.join();  // blocks until the 10 s closure returns
    auto t2 = Clock::now();
    stop_ms = us_since(t0, t1) / 1000.0;
    wall_ms = us_since(t0, t2) / 1000.0;
  }
  Json("shutdown_bounded")
      .num("wall_ms", wall_ms)
      .num("stop_returned_ms", stop_ms)
      .str("note",
           "no shutdown_timeout in asio; thread_pool join/destructor waits "
           "for the running closure")
      .emit();
}

struct Bench {
  const char* name;
  void (*fn)(bool);
};

const Bench kBenches[] = {
    {"blocking_throughput", bench_blocking_throughput},
    {"blocking_roundtrip", bench_blocking_roundtrip},
    {"spawn_throughput", bench_spawn_throughput},
    {"timer_idle", bench_timer_idle},
    {"timer_under_blocking_load", bench_timer_under_blocking_load},
    {"echo_under_blocking_load", bench_echo_under_blocking_load},
    {"burst_reuse", bench_burst_reuse},
    {"shutdown_bounded", bench_shutdown_bounded},
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<const Bench*> selected;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
      continue;
    }
    const Bench* found = nullptr;
    for (auto& b : kBenches)
      if (a == b.name) found = &b;
    if (!found) {
      std::fprintf(stderr, "unknown argument: %s\nbenches:", a.c_str());
      for (auto& b : kBenches) std::fprintf(stderr, " %s", b.name);
      std::fprintf(stderr, "\n");
      return 2;
    }
    selected.push_back(found);
  }
  if (selected.empty())
    for (auto& b : kBenches) selected.push_back(&b);
  for (auto* b : selected) b->fn(quick);
  return 0;
}
