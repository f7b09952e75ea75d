// SPDX-License-Identifier: MIT
// http_sqlite: an HTTP/1.1 service whose handlers run synchronous SQLite
// queries on weft's blocking pool — the realistic job spawn_blocking exists
// for. weft's implementation of the protocol in
// bench/peers/tokio-http-sqlite/README.md (the Tokio + hyper + rusqlite
// reference lives beside it); bench/compare.sh drives both with the same wrk
// load (load.sh) and check.sh checks the answers.
//
//   http_sqlite --db PATH --port PORT [--workers 2] [--max-blocking 512]
//   stderr: "listening on 127.0.0.1:PORT" once accepting; SIGINT or SIGTERM
//   stops it gracefully (exit 0).
//
// Routes: GET /ping (answered on the async worker), GET /user/<id> and
// GET /sum/<a>/<b> (on the blocking pool "db", each of its threads with its
// own read-only connection and prepared statements). HTTP is parsed by Debian's
// libhttp-parser (nodejs/http-parser 2.9), SQLite is Debian's libsqlite3:
// only this example needs them, not the weft library.
#include <weft/net.hpp>
#include <weft/pool.hpp>
#include <weft/combinators.hpp>
#include <weft/runtime.hpp>
#include <weft/signal.hpp>
#include <weft/spawn.hpp>
#include <weft/sync/notify.hpp>
#include <weft/time.hpp>

#include <http_parser.h>
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

/// How long in-flight requests get to finish after SIGINT/SIGTERM.
constexpr auto grace = 5s;
/// How long shutdown waits for a query still running on the blocking pool.
constexpr auto blocking_grace = 1s;
/// Rows in `users`, ids 1..num_users.
constexpr std::int64_t num_users = 100'000;

constexpr std::string_view usage = "usage: http_sqlite --db PATH --port PORT [--workers 2] [--max-blocking 512]";

// ---------------------------------------------------------------------------
// Command line

struct options {
  std::string db;
  std::uint16_t port = 0;
  std::size_t workers = 2;
  std::size_t max_blocking = 512;
};

template <class Int>
bool parse_number(std::string_view text, Int& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

/// The options, or an error message (usage included) for exit status 2.
std::optional<options> parse_options(int argc, char** argv, std::string& error) {
  options o;
  bool has_db = false, has_port = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      error = usage;
      return std::nullopt;
    }
    if (i + 1 >= argc) {
      error = std::string(flag) + " needs a value\n" + std::string(usage);
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--db") {
      o.db = value;
      has_db = ok = !value.empty();
    } else if (flag == "--port") {
      has_port = ok = parse_number(value, o.port);
    } else if (flag == "--workers") {
      ok = parse_number(value, o.workers) && o.workers > 0;
    } else if (flag == "--max-blocking") {
      ok = parse_number(value, o.max_blocking) && o.max_blocking > 0;
    } else {
      error = "unknown argument " + std::string(flag) + "\n" + std::string(usage);
      return std::nullopt;
    }
    if (!ok) {
      error = "bad value for " + std::string(flag) + ": " + std::string(value) + "\n" + std::string(usage);
      return std::nullopt;
    }
  }
  if (!has_db || !has_port) {
    error = std::string(has_db ? "--port" : "--db") + " is required\n" + std::string(usage);
    return std::nullopt;
  }
  return o;
}

// ---------------------------------------------------------------------------
// The database (synchronous; every query runs on a blocking-pool thread)

struct sqlite_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_sqlite(sqlite3* db, const char* what) {
  throw sqlite_error(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw sqlite_error(std::string(sql) + ": " + text);
  }
}

/// Creates the database at `path` if no file is there: table `users` with
/// num_users rows in one transaction, journal_mode WAL. It is built under a
/// temporary name and renamed, so an interrupted start leaves nothing.
/// True if it was created.
bool create_if_missing(const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::exists(path)) return false;
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  std::error_code ignored;
  fs::remove(tmp, ignored);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  try {
    if (rc != SQLITE_OK) throw_sqlite(db, "open");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "BEGIN");
    exec(db, "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance INTEGER NOT NULL)");
    sqlite3_stmt* insert = nullptr;
    if (sqlite3_prepare_v2(db, "INSERT INTO users(id, name, balance) VALUES (?1, ?2, ?3)", -1, &insert, nullptr) !=
        SQLITE_OK)
      throw_sqlite(db, "prepare insert");
    for (std::int64_t id = 1; id <= num_users; ++id) {
      const std::string name = "user-" + std::to_string(id);
      sqlite3_bind_int64(insert, 1, id);
      sqlite3_bind_text(insert, 2, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert, 3, (id * 7919) % 100'000);
      if (sqlite3_step(insert) != SQLITE_DONE) {
        sqlite3_finalize(insert);
        throw_sqlite(db, "insert");
      }
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    exec(db, "COMMIT");
  } catch (...) {
    sqlite3_close(db);
    fs::remove(tmp, ignored);
    throw;
  }
  // Closing the last connection checkpoints and removes the -wal file.
  sqlite3_close(db);
  fs::rename(tmp, path);
  return true;
}

/// The database file, set once in main() before the runtime starts.
std::string db_path;
/// The queries' own blocking pool ("db", sized by --max-blocking), set in
/// main() once the runtime is built: its threads hold the connections.
std::optional<weft::blocking_pool> db_pool;

/// One read-only connection per blocking thread, opened on the thread's
/// first query and closed when the thread exits, with one prepared statement
/// per query (rusqlite's statement cache in the Tokio reference).
class thread_connection {
public:
  thread_connection() = default;
  thread_connection(const thread_connection&) = delete;
  thread_connection& operator=(const thread_connection&) = delete;
  ~thread_connection() {
    sqlite3_finalize(user_);
    sqlite3_finalize(sum_);
    sqlite3_close(db_);
  }

  sqlite3_stmt* user() { return statement(user_, "SELECT name, balance FROM users WHERE id = ?1"); }
  sqlite3_stmt* sum() { return statement(sum_, "SELECT SUM(balance) FROM users WHERE id BETWEEN ?1 AND ?2"); }
  sqlite3* db() const noexcept { return db_; }

private:
  sqlite3_stmt* statement(sqlite3_stmt*& slot, const char* sql) {
    if (!slot) {
      if (!db_) {
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
          const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
          sqlite3_close(db);
          throw sqlite_error("open " + db_path + ": " + message);
        }
        db_ = db;
        // As rusqlite opens every connection: wait up to 5 s for a lock
        // instead of failing at once. A read-only connection can meet one
        // while it first reads the WAL index (seen under wrk: "prepare:
        // database is locked", one request in 240,000).
        sqlite3_busy_timeout(db_, 5000);
      }
      if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot, nullptr) != SQLITE_OK)
        throw_sqlite(db_, "prepare");
    }
    return slot;
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* user_ = nullptr;
  sqlite3_stmt* sum_ = nullptr;
};

thread_local thread_connection connection;

/// Resets a statement when the query is done (or throws), so the next one
/// starts clean and no read transaction stays open.
struct statement_reset {
  sqlite3_stmt* statement;
  ~statement_reset() {
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
  }
};

struct user_row {
  std::string name;
  std::int64_t balance = 0;
};

/// `SELECT name, balance FROM users WHERE id = ?1`; nullopt when no row.
/// Errors: sqlite_error.
std::optional<user_row> query_user(std::int64_t id) {
  sqlite3_stmt* s = connection.user();
  statement_reset reset{s};
  sqlite3_bind_int64(s, 1, id);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) throw_sqlite(connection.db(), "query user");
  const auto* text = sqlite3_column_text(s, 0);
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(s, 0));
  return user_row{std::string(reinterpret_cast<const char*>(text), size), sqlite3_column_int64(s, 1)};
}

/// `SELECT SUM(balance) FROM users WHERE id BETWEEN ?1 AND ?2`; an empty
/// range (SQL NULL) is 0. Errors: sqlite_error.
std::int64_t query_sum(std::int64_t from, std::int64_t to) {
  sqlite3_stmt* s = connection.sum();
  statement_reset reset{s};
  sqlite3_bind_int64(s, 1, from);
  sqlite3_bind_int64(s, 2, to);
  if (sqlite3_step(s) != SQLITE_ROW) throw_sqlite(connection.db(), "query sum");
  return sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 0);
}

// ---------------------------------------------------------------------------
// Responses

/// A path parameter: 1 or more ASCII digits whose value fits in an int64.
std::optional<std::int64_t> parse_id(std::string_view segment) {
  if (segment.empty()) return std::nullopt;
  for (const char c : segment)
    if (c < '0' || c > '9') return std::nullopt;
  std::int64_t value = 0;
  if (!parse_number(segment, value)) return std::nullopt;   // too large
  return value;
}

void append_number(std::string& out, std::int64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[(c >> 4) & 0xf];
      out += hex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

/// "Date: <IMF-fixdate>\r\n", formatted at most once a second per thread.
std::string_view date_header() {
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 64> cached{};
  thread_local std::size_t cached_size = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    cached_size = std::strftime(cached.data(), cached.size(), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &utc);
    cached_second = now;
  }
  return {cached.data(), cached_size};
}

enum class status { ok, bad_request, not_found, internal_error };

/// Writes a whole response into `out` (cleared first).
void format_response(std::string& out, status code, std::string_view content_type, std::string_view body,
                     bool keep_alive) {
  out.clear();
  switch (code) {
  case status::ok: out += "HTTP/1.1 200 OK\r\n"; break;
  case status::bad_request: out += "HTTP/1.1 400 Bad Request\r\n"; break;
  case status::not_found: out += "HTTP/1.1 404 Not Found\r\n"; break;
  case status::internal_error: out += "HTTP/1.1 500 Internal Server Error\r\n"; break;
  }
  out += "Content-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  append_number(out, static_cast<std::int64_t>(body.size()));
  out += "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += date_header();
  out += "\r\n";
  out += body;
}

constexpr std::string_view text_plain = "text/plain";
constexpr std::string_view application_json = "application/json";

/// A response being built: status, content type and body.
struct reply {
  status code = status::ok;
  std::string_view content_type = text_plain;
  std::string body;

  static reply text(status code, std::string_view body) { return {code, text_plain, std::string(body)}; }
  static reply not_found() { return text(status::not_found, "not found"); }
  static reply bad_request() { return text(status::bad_request, "bad request"); }
  static reply internal_error() { return text(status::internal_error, "internal error"); }
};

/// `GET /user/<id>`: the point query on the db pool.
weft::task<reply> get_user(std::string_view segment) {
  if (segment.find('/') != std::string_view::npos) co_return reply::not_found();
  const std::optional<std::int64_t> id = parse_id(segment);
  if (!id) co_return reply::bad_request();
  const std::int64_t key = *id;
  auto job = db_pool->spawn([key] { return query_user(key); });
  auto result = co_await job.join();
  if (!result) {
    if (result.error().is_panic()) {
      try {
        std::rethrow_exception(result.error().panic_payload());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "GET /user/%lld: %s\n", static_cast<long long>(key), e.what());
      } catch (...) {}
    }
    co_return reply::internal_error();
  }
  if (!*result) co_return reply::not_found();
  reply r{status::ok, application_json, {}};
  r.body.reserve(64);
  r.body += "{\"id\":";
  append_number(r.body, key);
  r.body += ",\"name\":";
  append_json_string(r.body, (*result)->name);
  r.body += ",\"balance\":";
  append_number(r.body, (*result)->balance);
  r.body += '}';
  co_return r;
}

/// `GET /sum/<from>/<to>`: the range query on the db pool.
weft::task<reply> get_sum(std::string_view rest) {
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || rest.find('/', slash + 1) != std::string_view::npos)
    co_return reply::not_found();
  const std::optional<std::int64_t> from = parse_id(rest.substr(0, slash));
  const std::optional<std::int64_t> to = parse_id(rest.substr(slash + 1));
  if (!from || !to) co_return reply::bad_request();
  auto job = db_pool->spawn([a = *from, b = *to] { return query_sum(a, b); });
  auto result = co_await job.join();
  if (!result) {
    if (result.error().is_panic()) {
      try {
        std::rethrow_exception(result.error().panic_payload());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "GET /sum/%lld/%lld: %s\n", static_cast<long long>(*from), static_cast<long long>(*to),
                     e.what());
      } catch (...) {}
    }
    co_return reply::internal_error();
  }
  reply r{status::ok, application_json, {}};
  r.body += "{\"sum\":";
  append_number(r.body, *result);
  r.body += '}';
  co_return r;
}

// ---------------------------------------------------------------------------
// Connections and graceful shutdown

/// The live connections, so that a shutdown can close the idle ones at once
/// and wait for the busy ones to finish their request.
class connection_registry {
public:
  /// One connection's entry; lives in its task's frame.
  struct entry {
    int fd = -1;
    /// idle (waiting for a request), busy (a request is being read, run or
    /// answered) or closing (shut down by stop_idle()).
    std::atomic<int> state{idle};
    entry* prev = nullptr;
    entry* next = nullptr;
  };
  static constexpr int idle = 0, busy = 1, closing = 2;

  /// False (and nothing is added) once shutting down: close the connection.
  bool add(entry& e) {
    const std::lock_guard lock(mutex_);
    if (stopping_.load()) return false;
    e.next = head_;
    if (head_) head_->prev = &e;
    head_ = &e;
    ++count_;
    return true;
  }

  void remove(entry& e) noexcept {
    const std::lock_guard lock(mutex_);
    if (e.prev) e.prev->next = e.next;
    else head_ = e.next;
    if (e.next) e.next->prev = e.prev;
    if (--count_ == 0 && stopping_.load()) drained_.notify_one();
  }

  /// The connection received bytes of a request; false if it is being closed.
  static bool begin_request(entry& e) noexcept {
    int expected = idle;
    // seq_cst: a shutdown either sees this connection busy, or this fails.
    return e.state.compare_exchange_strong(expected, busy) || expected == busy;
  }

  /// The connection answered and waits for the next request; false if the
  /// server is stopping and the connection should close now.
  bool end_request(entry& e) noexcept {
    // seq_cst store then load, against stop_idle's store then CAS: either
    // this sees stopping_, or stop_idle sees the connection idle.
    e.state.store(idle);
    return !stopping_.load();
  }

  bool stopping() const noexcept { return stopping_.load(); }

  /// Stops taking connections and closes every idle one (its pending read
  /// sees the end of the stream); busy ones close after their response.
  void stop_idle() noexcept {
    const std::lock_guard lock(mutex_);
    stopping_.store(true);
    for (entry* e = head_; e; e = e->next) {
      int expected = idle;
      if (e->state.compare_exchange_strong(expected, closing)) ::shutdown(e->fd, SHUT_RDWR);
    }
    if (count_ == 0) drained_.notify_one();
  }

  /// Completes once every connection is gone (after stop_idle()).
  weft::notify::notified_op drained() noexcept { return drained_.notified(); }

private:
  std::mutex mutex_;   // guards head_, count_ and the entries' links
  std::atomic<bool> stopping_{false};
  entry* head_ = nullptr;
  std::size_t count_ = 0;
  weft::notify drained_;
};

/// What http_parser's callbacks collect for the request being parsed.
struct request_state {
  std::string url;
  bool in_message = false;
  bool complete = false;
  bool url_too_long = false;
};

constexpr std::size_t max_url = 8 * 1024;

int on_message_begin(http_parser* parser) {
  auto* r = static_cast<request_state*>(parser->data);
  r->in_message = true;
  r->complete = false;
  r->url.clear();
  return 0;
}

int on_url(http_parser* parser, const char* at, std::size_t length) {
  auto* r = static_cast<request_state*>(parser->data);
  if (r->url.size() + length > max_url) {
    r->url_too_long = true;
    return 1;   // stops the parser with an error
  }
  r->url.append(at, length);
  return 0;
}

int on_message_complete(http_parser* parser) {
  auto* r = static_cast<request_state*>(parser->data);
  r->in_message = false;
  r->complete = true;
  // Stop after this request: it is answered before the next is parsed.
  http_parser_pause(parser, 1);
  return 0;
}

const http_parser_settings parser_settings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = on_message_begin;
  s.on_url = on_url;
  s.on_message_complete = on_message_complete;
  return s;
}();

/// The path of a request target: origin form ("/a/b?q") or absolute form
/// ("http://host/a/b"); empty if there is none.
std::string_view request_path(const std::string& url) {
  if (!url.empty() && url.front() == '/') {
    const std::string_view target = url;
    return target.substr(0, target.find_first_of("?#"));
  }
  http_parser_url parts;
  http_parser_url_init(&parts);
  if (http_parser_parse_url(url.data(), url.size(), 0, &parts) != 0 || !(parts.field_set & (1 << UF_PATH))) return {};
  return std::string_view(url).substr(parts.field_data[UF_PATH].off, parts.field_data[UF_PATH].len);
}

/// Routes one parsed request.
weft::task<reply> route(unsigned method, std::string_view path) {
  if (method != HTTP_GET) co_return reply::not_found();
  if (path == "/ping") co_return reply::text(status::ok, "pong");
  if (path.starts_with("/user/")) co_return co_await get_user(path.substr(6));
  if (path.starts_with("/sum/")) co_return co_await get_sum(path.substr(5));
  co_return reply::not_found();
}

/// Serves one connection: requests one after another (keep-alive), until the
/// client closes, a request says "Connection: close", or shutdown.
weft::task<void> serve_connection(weft::net::tcp_stream stream, connection_registry& registry) {
  connection_registry::entry entry;
  entry.fd = stream.native_handle();
  if (!registry.add(entry)) co_return;
  struct unregister {
    connection_registry& registry;
    connection_registry::entry& entry;
    ~unregister() { registry.remove(entry); }
  } guard{registry, entry};

  request_state request;
  request.url.reserve(64);
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &request;
  std::string out;
  out.reserve(256);
  std::array<std::byte, 8 * 1024> input;

  try {
    for (;;) {
      const std::size_t n = co_await stream.read(input);
      if (n == 0) co_return;   // the client closed, or shutdown closed this idle connection
      if (!connection_registry::begin_request(entry)) co_return;
      const char* data = reinterpret_cast<const char*>(input.data());
      std::size_t offset = 0;
      while (offset < n) {
        const std::size_t parsed = http_parser_execute(&parser, &parser_settings, data + offset, n - offset);
        offset += parsed;
        auto error = static_cast<http_errno>(parser.http_errno);
        if (error == HPE_OK && parsed == 0) error = HPE_UNKNOWN;   // no progress (e.g. after an upgrade)
        if (error == HPE_PAUSED && request.complete) {
          http_parser_pause(&parser, 0);
          request.complete = false;
          const bool keep_alive = http_should_keep_alive(&parser) != 0 && !parser.upgrade;
          const reply r = co_await route(parser.method, request_path(request.url));
          format_response(out, r.code, r.content_type, r.body, keep_alive);
          co_await stream.write_all(std::as_bytes(std::span(out.data(), out.size())));
          if (!keep_alive) co_return;
        } else if (error != HPE_OK) {
          // Malformed (or an upgrade): answer 400 and close, as hyper does.
          format_response(out, status::bad_request, text_plain, "bad request", false);
          co_await stream.write_all(std::as_bytes(std::span(out.data(), out.size())));
          co_return;
        }
      }
      // Between requests: idle again, unless a request is half received.
      if (!request.in_message && !registry.end_request(entry)) co_return;
    }
  } catch (const std::system_error&) {
    // ECONNRESET, EPIPE: the client went away; nothing to answer.
  }
}

weft::task<void> accept_loop(weft::net::tcp_listener listener, connection_registry& registry) {
  for (;;) {
    bool failed = false;
    try {
      auto [stream, peer] = co_await listener.accept();
      stream.set_nodelay(true);
      auto detached = weft::spawn(serve_connection(std::move(stream), registry));
    } catch (const std::system_error& e) {
      // EMFILE and the like: say so, let connections close, try again.
      std::fprintf(stderr, "accept: %s\n", e.what());
      failed = true;
    }
    if (failed) co_await weft::sleep(10ms);
  }
}

/// Binds, serves until SIGINT or SIGTERM, then shuts down gracefully: stop
/// accepting, close idle connections, give busy ones `grace` to finish.
/// `registry` outlives the runtime: connections still busy after `grace`
/// are cancelled by the runtime's shutdown, and they unregister then.
weft::task<void> serve(std::uint16_t port, connection_registry& registry) {
  // Listening before the socket is bound: a signal from then on is kept.
  auto interrupt = weft::signal_listener::on(SIGINT);
  auto terminate = weft::signal_listener::on(SIGTERM);
  auto listener = weft::net::tcp_listener::bind(weft::net::endpoint::v4({127, 0, 0, 1}, port));
  const std::string local = listener.local_endpoint().to_string();
  auto acceptor = weft::spawn(accept_loop(std::move(listener), registry));
  std::fprintf(stderr, "listening on %s\n", local.c_str());

  const auto which = co_await weft::when_any(interrupt.recv(), terminate.recv());
  std::fprintf(stderr, "%s: shutting down\n", which.index() == 0 ? "SIGINT" : "SIGTERM");
  acceptor.abort();   // the listener closes with the accept loop's frame
  auto accept_stopped = co_await acceptor.join();
  (void)accept_stopped;
  registry.stop_idle();
  if (!co_await weft::timeout(grace, registry.drained()))
    std::fprintf(stderr, "connections still open after %lld s; closing them\n",
                 static_cast<long long>(std::chrono::seconds(grace).count()));
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  const std::optional<options> opts = parse_options(argc, argv, error);
  if (!opts) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  try {
    if (create_if_missing(opts->db))
      std::fprintf(stderr, "created %s (%lld users)\n", opts->db.c_str(), static_cast<long long>(num_users));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot create %s: %s\n", opts->db.c_str(), e.what());
    return 1;
  }
  db_path = opts->db;

  try {
    connection_registry registry;   // outlives the runtime's tasks
    weft::runtime rt = weft::runtime::builder::multi_thread()
                           .worker_threads(opts->workers)
                           .blocking_pool("db", {.max_threads = opts->max_blocking})
                           .build();
    db_pool = rt.pool("db");
    int status = 0;
    try {
      rt.block_on(serve(opts->port, registry));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      status = 1;
    }
    const weft::pool_metrics m = db_pool->metrics();
    std::fprintf(stderr, "db pool: %zu threads alive, %llu started; %llu queries run\n", m.threads,
                 static_cast<unsigned long long>(m.started_threads), static_cast<unsigned long long>(m.completed));
    db_pool.reset();
    // Do not wait for a query still running on the db pool.
    rt.shutdown_timeout(blocking_grace);
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
