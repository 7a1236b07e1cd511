//! `sanad bench api`: the real server under a closed-loop load. A fresh database (a temporary
//! SQLite file, or a new PostgreSQL database created and dropped on the given server) gets a
//! synthetic population through the binary's own `gen`, `import` and `admin create-user`; the
//! server is this binary's `serve` in a child process; each client holds one keep-alive HTTP/1.1
//! connection and sends its next request as soon as the previous one is answered.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MixChoice {
    /// `GET /api/v1/households/{id}` over random existing households.
    Read,
    /// `POST /api/v1/households`, a fresh two-person household each.
    Write,
    /// 90 % reads, 10 % registrations.
    Mixed,
    /// read, then write, then mixed.
    All,
}

impl MixChoice {
    fn name(self) -> &'static str {
        match self {
            MixChoice::Read => "read",
            MixChoice::Write => "write",
            MixChoice::Mixed => "mixed",
            MixChoice::All => "all",
        }
    }

    /// Share of registrations, in percent.
    fn write_percent(self) -> u64 {
        match self {
            MixChoice::Read => 0,
            MixChoice::Write => 100,
            _ => 10,
        }
    }
}

#[derive(clap::Args)]
pub struct ApiArgs {
    /// Which store to benchmark.
    #[arg(long, value_enum, default_value = "sqlite")]
    pub store: StoreChoice,
    /// PostgreSQL server for `--store postgres|both` (a fresh database is created and dropped).
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres: String,
    /// Concurrent clients, one keep-alive connection each.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Seconds of load per mix (after one second of warm-up).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    #[arg(long, value_enum, default_value = "all")]
    pub mix: MixChoice,
    /// Households of the synthetic population read by the benchmark.
    #[arg(long, default_value_t = 5_000)]
    pub households: u64,
    /// Serve without an index model and programmes: registrations are then neither scored nor
    /// checked against programmes (by default they are, as in production).
    #[arg(long)]
    pub no_targeting: bool,
}

const USER: &str = "bench-admin";
const PASSWORD: &str = "bench-password-not-secret";

struct RunRow {
    store: &'static str,
    mix: &'static str,
    clients: usize,
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    /// CPU time of the server and of this load generator per request, in microseconds.
    server_cpu_us: f64,
    client_cpu_us: f64,
}

pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    let mixes: Vec<MixChoice> = match args.mix {
        MixChoice::All => vec![MixChoice::Read, MixChoice::Write, MixChoice::Mixed],
        m => vec![m],
    };
    let mut rows = Vec::new();
    let mut checks = Vec::new();
    if matches!(args.store, StoreChoice::Sqlite | StoreChoice::Both) {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let (r, c) = one_store("sqlite", &url, dir.path(), &args, &mixes).await?;
        rows.extend(r);
        checks.push(c);
    }
    if matches!(args.store, StoreChoice::Postgres | StoreChoice::Both) {
        let dir = tempfile::tempdir()?;
        let (url, cleanup) = super::fresh_pg_database(&args.postgres).await?;
        let outcome = one_store("postgres", &url, dir.path(), &args, &mixes).await;
        cleanup.await;
        let (r, c) = outcome?;
        rows.extend(r);
        checks.push(c);
    }
    println!();
    println!(
        "API benchmark: release={} targeting={} cores={} (load generator on the same cores)",
        !cfg!(debug_assertions),
        if args.no_targeting {
            "off"
        } else {
            "on: every registration scored and checked against the shipped programmes"
        },
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!(
        "| store    | mix   | clients | requests |   req/s | p50 ms | p99 ms | errors | server CPU µs/req | client CPU µs/req |"
    );
    println!(
        "|----------|-------|--------:|---------:|--------:|-------:|-------:|-------:|------------------:|------------------:|"
    );
    for r in &rows {
        println!(
            "| {:<8} | {:<5} | {:>7} | {:>8} | {:>7.0} | {:>6.2} | {:>6.2} | {:>6} | {:>17.0} | {:>17.0} |",
            r.store,
            r.mix,
            r.clients,
            r.requests,
            r.requests as f64 / r.seconds,
            r.p50_ms,
            r.p99_ms,
            r.errors,
            r.server_cpu_us,
            r.client_cpu_us
        );
    }
    println!();
    for c in &checks {
        println!("{c}");
    }
    Ok(())
}

/// Sets up one store, serves it, runs the mixes, and checks the access log and the audit trail.
async fn one_store(
    store: &'static str,
    url: &str,
    dir: &Path,
    args: &ApiArgs,
    mixes: &[MixChoice],
) -> anyhow::Result<(Vec<RunRow>, String)> {
    let env = ServerEnv {
        database_url: url.to_string(),
        dir: dir.to_path_buf(),
    };
    let data = dir.join("population");
    eprintln!(
        "{store}: generating and importing {} households…",
        args.households
    );
    env.run(&[
        "gen",
        "--households",
        &args.households.to_string(),
        "--seed",
        "11",
        "--out",
        &data.to_string_lossy(),
    ])?;
    if !args.no_targeting {
        // Defined before the import, which then scores and checks every household.
        let model = dir.join("pmt-demo.toml");
        std::fs::write(&model, crate::targeting::DEMO_MODEL)?;
        env.run(&["programme", "define-shipped"])?;
        env.run(&["score", "import", &model.to_string_lossy(), "--activate"])?;
    }
    env.run(&["import", &data.to_string_lossy()])?;
    env.run_with(
        &[
            "admin",
            "create-user",
            "--username",
            USER,
            "--role",
            "admin",
            "--password-env",
            "SANAD_BENCH_PASSWORD",
        ],
        &[("SANAD_BENCH_PASSWORD", PASSWORD)],
    )?;
    let ids = Arc::new(household_ids(&data.join("households.csv"))?);
    let mut server = env.serve()?;
    eprintln!("{store}: server on {}", server.addr);
    server.wait_ready(Duration::from_secs(180));
    let target = Arc::new(Target {
        addr: server.addr,
        authorization: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        ),
        ids,
    });
    let before = access_log_count(&target).await?;
    let mut rows = Vec::new();
    let mut reads_answered = 0;
    let mut created = 0;
    for (n, mix) in mixes.iter().enumerate() {
        eprintln!(
            "{store}: {} mix, {} clients, {} s…",
            mix.name(),
            args.clients,
            args.seconds
        );
        let cpu_before = (cpu_seconds(Some(server.child.id())), cpu_seconds(None));
        let outcome = load(&target, *mix, args.clients, args.seconds, n as u64).await;
        let cpu_after = (cpu_seconds(Some(server.child.id())), cpu_seconds(None));
        let all = (outcome.reads_ok + outcome.writes_ok).max(1) as f64;
        let per_request = |before: Option<f64>, after: Option<f64>| match (before, after) {
            (Some(b), Some(a)) => (a - b) * 1e6 / all,
            _ => f64::NAN,
        };
        reads_answered += outcome.reads_ok;
        created += outcome.writes_ok;
        rows.push(RunRow {
            store,
            mix: mix.name(),
            clients: args.clients,
            requests: outcome.measured,
            seconds: outcome.seconds,
            p50_ms: outcome.percentile(0.50),
            p99_ms: outcome.percentile(0.99),
            errors: outcome.errors,
            server_cpu_us: per_request(cpu_before.0, cpu_after.0),
            client_cpu_us: per_request(cpu_before.1, cpu_after.1),
        });
    }
    let logged = access_log_count(&target).await? - before;
    server.stop();
    let verify = env.command(&["audit", "verify"]).output()?;
    let verdict = if verify.status.success() {
        "clean".to_string()
    } else {
        format!(
            "FAILED: {}",
            String::from_utf8_lossy(&verify.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )
    };
    let check = format!(
        "{store}: {reads_answered} reads answered, {logged} access-log entries written for them ({}); {created} households registered; audit verify {verdict}",
        if logged >= reads_answered {
            "every read logged"
        } else {
            "READS MISSING FROM THE LOG"
        }
    );
    Ok((rows, check))
}

/// Runs the binary with the benchmark's database and key files.
struct ServerEnv {
    database_url: String,
    dir: PathBuf,
}

impl ServerEnv {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(std::env::current_exe().unwrap_or_else(|_| "sanad".into()));
        c.args(args)
            .env("SANAD_DATABASE_URL", &self.database_url)
            .env("SANAD_DATA_KEY_FILE", self.dir.join("data.key"))
            .env("SANAD_AUDIT_KEY_FILE", self.dir.join("audit.key"))
            .env("SANAD_LOG", "info")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<()> {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> anyhow::Result<()> {
        let mut c = self.command(args);
        for (k, v) in vars {
            c.env(k, v);
        }
        let out = c
            .output()
            .with_context(|| format!("cannot run sanad {}", args[0]))?;
        if !out.status.success() {
            bail!(
                "sanad {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    fn serve(&self) -> anyhow::Result<Server> {
        let mut child = self
            .command(&["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start sanad serve")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let mut lines = std::io::BufReader::new(stderr).lines();
        let addr = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                bail!("the server stopped before listening");
            };
            let line = line?;
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split('/').next().unwrap_or_default();
                break addr
                    .parse::<SocketAddr>()
                    .with_context(|| format!("server address `{addr}`"))?;
            }
        };
        // The rest of its output is read (and dropped) so that the server never blocks on a full
        // pipe; the registration-time duplicate check says when it is ready.
        let ready = Arc::new(AtomicBool::new(false));
        let flag = ready.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("duplicate check ready") || line.contains("duplicate check off") {
                    flag.store(true, Ordering::Release);
                }
            }
        });
        Ok(Server { child, addr, ready })
    }
}

struct Server {
    child: Child,
    addr: SocketAddr,
    ready: Arc<AtomicBool>,
}

impl Server {
    fn wait_ready(&self, at_most: Duration) {
        let start = Instant::now();
        while !self.ready.load(Ordering::Acquire) && start.elapsed() < at_most {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// User and system CPU time of a process (this one for `None`), from `/proc` (Linux).
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks; 100 per second on Linux.
    Some((utime + stime) / 100.0)
}

fn household_ids(csv: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(csv).with_context(|| format!("{}", csv.display()))?;
    let ids: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(|s| s.trim_matches('"').to_string())
        .filter(|s| s.starts_with('H'))
        .collect();
    if ids.is_empty() {
        bail!("no household in {}", csv.display());
    }
    Ok(ids)
}

struct Target {
    addr: SocketAddr,
    authorization: String,
    ids: Arc<Vec<String>>,
}

/// One keep-alive HTTP/1.1 connection; requests go one at a time.
pub(crate) struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    pub(crate) async fn open(addr: SocketAddr) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Sends one request and reads its response: the status and the body.
    pub(crate) async fn call(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(invalid)?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("status line"))?;
        let mut length = None;
        let mut chunked = false;
        for line in head.split("\r\n").skip(1) {
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.to_ascii_lowercase().contains("chunked");
                }
            }
        }
        if chunked {
            // Bodies of this API are small: read until the last chunk, then unframe.
            while find(&self.buf[head_end..], b"0\r\n\r\n").is_none() {
                self.fill().await?;
            }
            return Ok((status, unchunk(&self.buf[head_end..])));
        }
        let length = length.unwrap_or(0);
        while self.buf.len() < head_end + length {
            self.fill().await?;
        }
        Ok((status, self.buf[head_end..head_end + length].to_vec()))
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn invalid(what: impl std::fmt::Debug) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("bad response: {what:?}"),
    )
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn unchunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = find(body, b"\r\n") {
        let size = std::str::from_utf8(&body[..i])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || body.len() < i + 2 + size {
            break;
        }
        out.extend_from_slice(&body[i + 2..i + 2 + size]);
        body = &body[(i + 4 + size).min(body.len())..];
    }
    out
}

/// xorshift64*: enough to pick ids and vary names, without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

const SYLLABLES: [&str; 16] = [
    "ka", "mi", "ra", "lou", "sa", "di", "na", "bel", "ha", "zi", "mo", "ta", "ri", "fa", "nou",
    "ya",
];
const COMMUNES: [&str; 4] = [
    "03.231.01.0",
    "01.511.01.01",
    "04.421.01.07",
    "04.441.01.08",
];

/// A made-up name of three syllables (4,096 of them), capitalised.
fn name(r: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..3 {
        s.push_str(SYLLABLES[(r.next() % 16) as usize]);
    }
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A fresh two-person household: head and spouse with made-up names and birth dates (so that the
/// registration-time duplicate check rarely finds a likely duplicate, as in real registrations),
/// no national id (so none is refused as used).
pub(crate) fn household_body(rng: &mut u64, commune: Option<&str>) -> String {
    let mut r = Rng(*rng | 1);
    let (f1, l1, f2, l2) = (name(&mut r), name(&mut r), name(&mut r), name(&mut r));
    let date = |r: &mut Rng| {
        format!(
            "{}-{:02}-{:02}",
            1940 + r.next() % 60,
            1 + r.next() % 12,
            1 + r.next() % 28
        )
    };
    let (d1, d2) = (date(&mut r), date(&mut r));
    let commune = commune.unwrap_or(COMMUNES[(r.next() % COMMUNES.len() as u64) as usize]);
    *rng = r.next();
    format!(
        r#"{{"household":{{"commune_code":"{commune}","address":"Rue {n}","dwelling_type":"apartment","tenure":"tenant","rooms":3,"water_spending":"50.00","electricity_spending":"120.00","phone_spending":"40","gas_spending":"45","assets":["tv"],"declared_income":"2500.00","members":[{{"relation":"head","first_name":"{f1}","last_name":"{l1}","sex":"M","birth_date":"{d1}","schooling":"primary","occupation":"self_employed"}},{{"relation":"spouse","first_name":"{f2}","last_name":"{l2}","sex":"F","birth_date":"{d2}","schooling":"lower_secondary","occupation":"homemaker"}}]}},"reason":"benchmark"}}"#,
        n = *rng % 1000,
    )
}

struct Outcome {
    /// Latencies of the measured window, in microseconds.
    latencies_us: Vec<u32>,
    measured: u64,
    seconds: f64,
    errors: u64,
    /// Reads answered 200, warm-up included (each must be in the access log).
    reads_ok: u64,
    writes_ok: u64,
}

impl Outcome {
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

const WARM_UP: Duration = Duration::from_secs(1);

async fn load(
    target: &Arc<Target>,
    mix: MixChoice,
    clients: usize,
    seconds: u64,
    round: u64,
) -> Outcome {
    let start = Instant::now();
    let measure_from = start + WARM_UP;
    let until = measure_from + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let target = target.clone();
            tokio::spawn(client(
                target,
                mix,
                measure_from,
                until,
                0x9E37_79B9_7F4A_7C15 ^ ((round << 32) + c as u64 + 1),
            ))
        })
        .collect();
    let mut all = Outcome {
        latencies_us: Vec::new(),
        measured: 0,
        seconds: 0.0,
        errors: 0,
        reads_ok: 0,
        writes_ok: 0,
    };
    for t in tasks {
        if let Ok(o) = t.await {
            all.latencies_us.extend(o.latencies_us);
            all.measured += o.measured;
            all.errors += o.errors;
            all.reads_ok += o.reads_ok;
            all.writes_ok += o.writes_ok;
        }
    }
    all.seconds = (Instant::now().min(until + Duration::from_secs(1)) - measure_from)
        .as_secs_f64()
        .max(0.001);
    all.latencies_us.sort_unstable();
    all
}

async fn client(
    target: Arc<Target>,
    mix: MixChoice,
    measure_from: Instant,
    until: Instant,
    seed: u64,
) -> Outcome {
    let mut out = Outcome {
        latencies_us: Vec::with_capacity(64 * 1024),
        measured: 0,
        seconds: 0.0,
        errors: 0,
        reads_ok: 0,
        writes_ok: 0,
    };
    let mut rng = Rng(seed);
    let mut body_seed = seed;
    let mut conn: Option<Connection> = None;
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        let write = rng.next() % 100 < mix.write_percent();
        let request = if write {
            let body = household_body(&mut body_seed, None);
            format!(
                "POST /api/v1/households HTTP/1.1\r\nHost: bench\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                target.authorization,
                body.len()
            )
        } else {
            let id = &target.ids[(rng.next() % target.ids.len() as u64) as usize];
            format!(
                "GET /api/v1/households/{id} HTTP/1.1\r\nHost: bench\r\nAuthorization: {}\r\nX-Purpose: benchmark\r\n\r\n",
                target.authorization
            )
        };
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Connection::open(target.addr).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    out.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let sent = Instant::now();
        let result = c.call(request.as_bytes()).await;
        let took = sent.elapsed();
        let measured = sent >= measure_from;
        match result {
            Ok((status, _)) => {
                let ok = if write { status == 201 } else { status == 200 };
                if ok && write {
                    out.writes_ok += 1;
                } else if ok {
                    out.reads_ok += 1;
                }
                if measured {
                    out.measured += 1;
                    out.latencies_us
                        .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                    if !ok {
                        out.errors += 1;
                    }
                }
            }
            Err(_) => {
                conn = None;
                if measured {
                    out.errors += 1;
                }
            }
        }
    }
    out
}

/// Entries in the access log, counted through the API (as an auditor would).
async fn access_log_count(target: &Target) -> anyhow::Result<u64> {
    let mut conn = Connection::open(target.addr).await?;
    let mut after = 0i64;
    let mut count = 0u64;
    loop {
        let request = format!(
            "GET /api/v1/access-log?after={after}&limit=500 HTTP/1.1\r\nHost: bench\r\nAuthorization: {}\r\n\r\n",
            target.authorization
        );
        let (status, body) = conn.call(request.as_bytes()).await?;
        if status != 200 {
            bail!("the access log answered {status}");
        }
        let page: serde_json::Value = serde_json::from_slice(&body)?;
        count += page["items"].as_array().map(|a| a.len()).unwrap_or(0) as u64;
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => return Ok(count),
        }
    }
}
