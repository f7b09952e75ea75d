//! Tokio reference ("anchor") service for the `http_sqlite` workload of
//! bench/README.md (weft's repository): an HTTP/1.1 server (hyper 0.14, keep-alive)
//! whose handlers run synchronous SQLite queries on Tokio's blocking pool.
//! The protocol is specified in this folder's README.md.
//!
//! Usage: tokio-http-sqlite --db PATH --port PORT [--workers 2] [--max-blocking 512]

mod db;

use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::{poll_fn, Future as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::AddrStream;
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Method, Request, Response, Server, StatusCode};
use tokio::signal::unix::{signal, SignalKind};

/// How long in-flight requests get to finish after SIGINT/SIGTERM.
const GRACE: Duration = Duration::from_secs(5);

struct Args {
    db: PathBuf,
    port: u16,
    workers: usize,
    max_blocking: usize,
}

const USAGE: &str =
    "usage: tokio-http-sqlite --db PATH --port PORT [--workers 2] [--max-blocking 512]";

fn parse_args() -> Result<Args, String> {
    let mut db = None;
    let mut port = None;
    let mut workers = 2usize;
    let mut max_blocking = 512usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |_| format!("bad value for {flag}: {value}\n{USAGE}");
        match flag.as_str() {
            "--db" => db = Some(PathBuf::from(&value)),
            "--port" => port = Some(value.parse::<u16>().map_err(bad)?),
            "--workers" => workers = value.parse::<usize>().map_err(bad)?,
            "--max-blocking" => max_blocking = value.parse::<usize>().map_err(bad)?,
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    if workers == 0 || max_blocking == 0 {
        return Err(format!(
            "--workers and --max-blocking must be at least 1\n{USAGE}"
        ));
    }
    Ok(Args {
        db: db.ok_or_else(|| format!("--db is required\n{USAGE}"))?,
        port: port.ok_or_else(|| format!("--port is required\n{USAGE}"))?,
        workers,
        max_blocking,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    match db::create_if_missing(&args.db) {
        Ok(true) => eprintln!("created {} ({} users)", args.db.display(), db::NUM_USERS),
        Ok(false) => {}
        Err(e) => {
            eprintln!("cannot create {}: {e}", args.db.display());
            return ExitCode::FAILURE;
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers)
        .max_blocking_threads(args.max_blocking)
        .enable_all()
        .build()
        .expect("failed to build tokio runtime");
    let result = rt.block_on(serve(args));
    // Do not wait for a query still running on the blocking pool.
    rt.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Binds, serves until SIGINT/SIGTERM, then shuts hyper down gracefully.
async fn serve(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // Registered before "listening" is printed, so no signal is missed.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;

    let db = Arc::new(args.db);
    let make_svc = make_service_fn(move |_conn: &AddrStream| {
        let db = db.clone();
        async move { Ok::<_, Infallible>(service_fn(move |req| handle(db.clone(), req))) }
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let server = Server::try_bind(&addr)?
        .http1_only(true)
        .http1_keepalive(true)
        .tcp_nodelay(true)
        .serve(make_svc);
    let local = server.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let graceful = server.with_graceful_shutdown(async {
        let _ = stop_rx.await;
    });
    // The accept loop runs on the workers, not on the block_on thread.
    let mut task = tokio::spawn(graceful);
    eprintln!("listening on {local}");

    let early = poll_fn(|cx| {
        if sigint.poll_recv(cx).is_ready() {
            return Poll::Ready(Ok("SIGINT"));
        }
        if sigterm.poll_recv(cx).is_ready() {
            return Poll::Ready(Ok("SIGTERM"));
        }
        match std::pin::Pin::new(&mut task).poll(cx) {
            Poll::Ready(r) => Poll::Ready(Err(r)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    match early {
        Ok(name) => eprintln!("{name}: shutting down"),
        Err(Ok(Ok(()))) => return Err("server stopped unexpectedly".into()),
        Err(Ok(Err(e))) => return Err(e.into()),
        Err(Err(e)) => return Err(e.into()),
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(GRACE, task).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => Err(e.into()),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => {
            eprintln!("connections still open after {GRACE:?}; closing them");
            Ok(())
        }
    }
}

async fn handle(db: Arc<PathBuf>, req: Request<Body>) -> Result<Response<Body>, Infallible> {
    if req.method() != Method::GET {
        return Ok(not_found());
    }
    let path = req.uri().path();
    let resp = if path == "/ping" {
        text(StatusCode::OK, "pong")
    } else if let Some(rest) = path.strip_prefix("/user/") {
        user(db, rest).await
    } else if let Some(rest) = path.strip_prefix("/sum/") {
        sum(db, rest).await
    } else {
        not_found()
    };
    Ok(resp)
}

/// `GET /user/<id>`
async fn user(db: Arc<PathBuf>, seg: &str) -> Response<Body> {
    if seg.contains('/') {
        return not_found();
    }
    let id = match parse_id(seg) {
        Some(id) => id,
        None => return bad_request(),
    };
    match tokio::task::spawn_blocking(move || db::user(&db, id)).await {
        Ok(Ok(Some((name, balance)))) => {
            let mut body = String::with_capacity(64);
            let _ = write!(body, "{{\"id\":{id},\"name\":");
            push_json_str(&mut body, &name);
            let _ = write!(body, ",\"balance\":{balance}}}");
            json(body)
        }
        Ok(Ok(None)) => not_found(),
        Ok(Err(e)) => {
            eprintln!("GET /user/{id}: {e}");
            internal_error()
        }
        Err(_join_error) => internal_error(),
    }
}

/// `GET /sum/<from>/<to>`
async fn sum(db: Arc<PathBuf>, rest: &str) -> Response<Body> {
    let mut segs = rest.split('/');
    let (from, to) = match (segs.next(), segs.next(), segs.next()) {
        (Some(a), Some(b), None) => (a, b),
        _ => return not_found(),
    };
    let (from, to) = match (parse_id(from), parse_id(to)) {
        (Some(a), Some(b)) => (a, b),
        _ => return bad_request(),
    };
    match tokio::task::spawn_blocking(move || db::sum(&db, from, to)).await {
        Ok(Ok(s)) => json(format!("{{\"sum\":{s}}}")),
        Ok(Err(e)) => {
            eprintln!("GET /sum/{from}/{to}: {e}");
            internal_error()
        }
        Err(_join_error) => internal_error(),
    }
}

/// A path parameter: 1 or more ASCII digits whose value fits in an i64.
fn parse_id(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn respond(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    respond(status, "text/plain", Body::from(body))
}

fn json(body: String) -> Response<Body> {
    respond(StatusCode::OK, "application/json", Body::from(body))
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found")
}

fn bad_request() -> Response<Body> {
    text(StatusCode::BAD_REQUEST, "bad request")
}

fn internal_error() -> Response<Body> {
    text(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}
