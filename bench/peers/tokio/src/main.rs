//! Tokio reference ("anchor") implementation of the workloads in
//! bench/README.md (weft's repository, "The workloads"). One JSON line per workload on stdout,
//! diagnostics on stderr.

use std::future::Future;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::task::JoinHandle;

const WORKERS: usize = 2;
const LOAD_CLOSURES: usize = 256;
const LOAD_SLEEP: Duration = Duration::from_millis(50);

const BENCHES: &[&str] = &[
    "blocking_throughput",
    "blocking_roundtrip",
    "spawn_throughput",
    "timer_idle",
    "timer_under_blocking_load",
    "echo_under_blocking_load",
    "burst_reuse",
    "shutdown_bounded",
];

/// Fresh multi-thread runtime with the common settings; optionally counts
/// every thread the runtime starts (workers + blocking threads).
fn build_rt(thread_counter: Option<Arc<AtomicUsize>>) -> Runtime {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.worker_threads(WORKERS)
        .max_blocking_threads(512)
        .thread_keep_alive(Duration::from_secs(10))
        .enable_all();
    if let Some(c) = thread_counter {
        b.on_thread_start(move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
    }
    b.build().expect("failed to build tokio runtime")
}

/// Run `f` as a task on the runtime's workers (not on the block_on thread).
fn run_on<F>(rt: &Runtime, f: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(rt.spawn(f)).expect("benchmark task panicked")
}

fn us(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1000.0
}

/// Nearest-rank percentile of an ascending-sorted slice.
fn pct(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

fn emit(bench: &str, fields: &str) {
    println!("{{\"bench\":\"{}\",\"impl\":\"tokio\",{}}}", bench, fields);
}

fn fail(msg: String) -> ! {
    eprintln!("tokio-anchor: FAILED: {msg}");
    std::process::exit(1);
}

// ---------------------------------------------------------------------------
// Blocking-pool saturation load: one async task keeps LOAD_CLOSURES blocking
// closures (each sleeping 50 ms) in flight, spawning a fresh one each time one
// finishes, until stopped; then it drains the ones still in flight.

struct Load {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<u64>,
}

/// Must be called from within the runtime. Returns once all LOAD_CLOSURES
/// closures have started running (pool saturated).
async fn start_load() -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let (stop2, started2) = (stop.clone(), started.clone());
    let handle = tokio::spawn(async move {
        let (tx, mut rx) = unbounded_channel::<()>();
        let spawn_one = |tx: &UnboundedSender<()>| {
            let tx = tx.clone();
            let started = started2.clone();
            // Detached: completion is reported through the channel.
            drop(tokio::task::spawn_blocking(move || {
                started.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(LOAD_SLEEP);
                let _ = tx.send(());
            }));
        };
        for _ in 0..LOAD_CLOSURES {
            spawn_one(&tx);
        }
        let mut in_flight = LOAD_CLOSURES;
        let mut total = LOAD_CLOSURES as u64;
        while in_flight > 0 {
            rx.recv().await.expect("load channel closed");
            in_flight -= 1;
            if !stop2.load(Ordering::Acquire) {
                spawn_one(&tx);
                in_flight += 1;
                total += 1;
            }
        }
        total
    });
    while started.load(Ordering::Relaxed) < LOAD_CLOSURES {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Load { stop, handle }
}

impl Load {
    /// Stop respawning and wait until every in-flight closure has finished.
    async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Release);
        self.handle.await.expect("load task panicked")
    }
}

// ---------------------------------------------------------------------------

fn blocking_throughput(n: usize) {
    let rt = build_rt(None);
    let (elapsed, sum) = run_on(&rt, async move {
        let t0 = Instant::now();
        let mut handles = Vec::with_capacity(n);
        for i in 0..n as u64 {
            handles.push(tokio::task::spawn_blocking(move || i));
        }
        let mut sum = 0u64;
        for h in handles {
            sum += h.await.expect("blocking closure panicked");
        }
        (t0.elapsed(), sum)
    });
    drop(rt);
    let expect = (n as u64) * (n as u64 - 1) / 2;
    if sum != expect {
        fail(format!("blocking_throughput sum {sum} != {expect}"));
    }
    emit(
        "blocking_throughput",
        &format!("\"ops_per_s\":{:.1}", n as f64 / elapsed.as_secs_f64()),
    );
}

fn blocking_roundtrip(n: usize) {
    let rt = build_rt(None);
    let lat = run_on(&rt, async move {
        let mut lat = Vec::with_capacity(n);
        for i in 0..n as u64 {
            let t0 = Instant::now();
            let r = tokio::task::spawn_blocking(move || i)
                .await
                .expect("blocking closure panicked");
            lat.push(us(t0.elapsed()));
            assert_eq!(r, i);
        }
        lat
    });
    drop(rt);
    let mean = lat.iter().sum::<f64>() / lat.len() as f64;
    let s = sorted(lat);
    emit(
        "blocking_roundtrip",
        &format!(
            "\"p50_us\":{:.3},\"p99_us\":{:.3},\"mean_us\":{:.3}",
            pct(&s, 50.0),
            pct(&s, 99.0),
            mean
        ),
    );
}

fn spawn_throughput(n: usize) {
    let rt = build_rt(None);
    let (elapsed, sum) = run_on(&rt, async move {
        let t0 = Instant::now();
        let mut handles = Vec::with_capacity(n);
        for i in 0..n as u64 {
            handles.push(tokio::spawn(async move { i }));
        }
        let mut sum = 0u64;
        for h in handles {
            sum += h.await.expect("task panicked");
        }
        (t0.elapsed(), sum)
    });
    drop(rt);
    let expect = (n as u64) * (n as u64 - 1) / 2;
    if sum != expect {
        fail(format!("spawn_throughput sum {sum} != {expect}"));
    }
    emit(
        "spawn_throughput",
        &format!("\"ops_per_s\":{:.1}", n as f64 / elapsed.as_secs_f64()),
    );
}

async fn timer_lateness(n: usize) -> Vec<f64> {
    let period = Duration::from_millis(1);
    let mut late = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        tokio::time::sleep(period).await;
        late.push(us(t0.elapsed()) - us(period));
    }
    late
}

fn emit_timer(bench: &str, late: Vec<f64>) {
    let s = sorted(late);
    emit(
        bench,
        &format!(
            "\"p50_us\":{:.3},\"p99_us\":{:.3},\"max_us\":{:.3}",
            pct(&s, 50.0),
            pct(&s, 99.0),
            s[s.len() - 1]
        ),
    );
}

fn timer_idle(n: usize) {
    let rt = build_rt(None);
    let late = run_on(&rt, timer_lateness(n));
    drop(rt);
    emit_timer("timer_idle", late);
}

fn timer_under_blocking_load(n: usize) {
    let rt = build_rt(None);
    let (late, closures) = run_on(&rt, async move {
        let load = start_load().await;
        let late = timer_lateness(n).await;
        let closures = load.stop().await;
        (late, closures)
    });
    drop(rt);
    eprintln!("timer_under_blocking_load: {closures} load closures run");
    emit_timer("timer_under_blocking_load", late);
}

fn echo_under_blocking_load(n: usize) {
    const MSG: usize = 64;
    let rt = build_rt(None);
    let (addr, load) = run_on(&rt, async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        eprintln!("accept: {e}");
                        return;
                    }
                };
                let _ = sock.set_nodelay(true);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    loop {
                        let k = match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => k,
                        };
                        if sock.write_all(&buf[..k]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let load = start_load().await;
        (addr, load)
    });

    let client = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        let mut out = [0u8; MSG];
        let mut inb = [0u8; MSG];
        let mut lat = Vec::with_capacity(n);
        for i in 0..n {
            out.fill((i % 251) as u8);
            let t0 = Instant::now();
            s.write_all(&out).expect("client write");
            s.read_exact(&mut inb).expect("client read");
            lat.push(us(t0.elapsed()));
            if inb != out {
                fail(format!("echo mismatch at message {i}"));
            }
        }
        lat
    });
    let lat = client.join().expect("client thread panicked");
    let closures = rt.block_on(load.stop());
    drop(rt);
    eprintln!("echo_under_blocking_load: {closures} load closures run");
    let s = sorted(lat);
    emit(
        "echo_under_blocking_load",
        &format!("\"p50_us\":{:.3},\"p99_us\":{:.3}", pct(&s, 50.0), pct(&s, 99.0)),
    );
}

fn burst_reuse(per_burst: usize) {
    const BURSTS: usize = 10;
    let threads = Arc::new(AtomicUsize::new(0));
    let rt = build_rt(Some(threads.clone()));
    let wall = run_on(&rt, async move {
        let t0 = Instant::now();
        for b in 0..BURSTS {
            let hs: Vec<_> = (0..per_burst)
                .map(|_| {
                    tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(1)))
                })
                .collect();
            for h in hs {
                h.await.expect("blocking closure panicked");
            }
            if b + 1 < BURSTS {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        t0.elapsed()
    });
    // Drop joins every runtime thread, so the counter is final afterwards.
    drop(rt);
    let spawned = threads.load(Ordering::SeqCst).saturating_sub(WORKERS);
    emit(
        "burst_reuse",
        &format!(
            "\"wall_ms\":{:.3},\"threads_spawned\":{}",
            us(wall) / 1000.0,
            spawned
        ),
    );
}

fn shutdown_bounded() {
    let rt = build_rt(None);
    let (tx, rx) = std::sync::mpsc::channel();
    drop(rt.spawn_blocking(move || {
        tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(10));
    }));
    rx.recv().expect("blocking closure did not start");
    let t0 = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(100));
    let wall = t0.elapsed();
    emit(
        "shutdown_bounded",
        &format!("\"wall_ms\":{:.3}", us(wall) / 1000.0),
    );
}

fn main() {
    let mut quick = false;
    let mut selected: Vec<String> = Vec::new();
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                eprintln!("usage: tokio-anchor [--quick] [bench ...]\nbenches: {}", BENCHES.join(" "));
                return;
            }
            name if BENCHES.contains(&name) => selected.push(a),
            other => {
                eprintln!("tokio-anchor: unknown argument '{other}'; benches: {}", BENCHES.join(" "));
                std::process::exit(2);
            }
        }
    }
    let div = if quick { 10 } else { 1 };
    let run = |name: &str| selected.is_empty() || selected.iter().any(|s| s == name);

    for &name in BENCHES {
        if !run(name) {
            continue;
        }
        let t0 = Instant::now();
        match name {
            "blocking_throughput" => blocking_throughput(200_000 / div),
            "blocking_roundtrip" => blocking_roundtrip(20_000 / div),
            "spawn_throughput" => spawn_throughput(1_000_000 / div),
            "timer_idle" => timer_idle(1_000 / div),
            "timer_under_blocking_load" => timer_under_blocking_load(1_000 / div),
            "echo_under_blocking_load" => echo_under_blocking_load(10_000 / div),
            "burst_reuse" => burst_reuse(1_000 / div),
            "shutdown_bounded" => shutdown_bounded(),
            _ => unreachable!(),
        }
        eprintln!("[{name}: {:.2} s]", t0.elapsed().as_secs_f64());
    }
}
