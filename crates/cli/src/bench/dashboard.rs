//! `sanad bench dashboard`: the supervisor's dashboard of a region holding a million households.
//! A generated population is moved into one region (its households' communes replaced, before the
//! import, by the region's communes in turn), imported into a fresh SQLite file, scored against the
//! shipped model and programmes, and one programme's eligible households of one province enrolled.
//! Then the dashboard's figures are read once (the aggregate queries, what a refresh costs), and
//! the dashboard page of that region is rendered N times through the router, as a supervisor of
//! the region, cycling through the measures: p50, p95 and max, with the page's and the map's size.
//! Generating, importing and scoring are not the figure.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, header};
use sanad_app::auth::hash_password;
use sanad_app::store::{Account, NoProgress};
use sanad_app::{Actor, Dashboard, Registry, Role};
use sanad_domain::Territories;
use tower::ServiceExt as _;

#[derive(clap::Args)]
pub struct DashboardArgs {
    /// Households of the region.
    #[arg(long, default_value_t = 1_000_000)]
    pub households: u64,
    /// The region (HCP code) they all live in.
    #[arg(long, default_value = "06")]
    pub region: String,
    /// Pages rendered for the figures.
    #[arg(long, default_value_t = 200)]
    pub renders: usize,
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

/// Moves every generated household into `region`: its communes in turn, with their area.
fn move_into_region(dir: &Path, region: &str) -> anyhow::Result<()> {
    let communes: Vec<_> = Territories::morocco()
        .communes()
        .iter()
        .filter(|c| c.region_code == region)
        .collect();
    anyhow::ensure!(!communes.is_empty(), "no commune in region {region}");
    let path = dir.join("households.csv");
    let moved = dir.join("households.moved.csv");
    let mut reader = csv::Reader::from_path(&path).with_context(|| path.display().to_string())?;
    let headers = reader.headers()?.clone();
    let commune_at = headers
        .iter()
        .position(|h| h == "commune_code")
        .context("households.csv has no commune_code")?;
    let area_at = headers.iter().position(|h| h == "area");
    let mut writer = csv::Writer::from_path(&moved)?;
    writer.write_record(&headers)?;
    for (i, record) in reader.records().enumerate() {
        let record = record?;
        let commune = communes[i % communes.len()];
        let row: Vec<&str> = record
            .iter()
            .enumerate()
            .map(|(k, v)| {
                if k == commune_at {
                    commune.code.as_str()
                } else if Some(k) == area_at {
                    commune.area.map(|a| a.as_str()).unwrap_or(v)
                } else {
                    v
                }
            })
            .collect();
        writer.write_record(row)?;
    }
    writer.flush()?;
    drop(writer);
    std::fs::rename(&moved, &path)?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(args: DashboardArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        Territories::morocco()
            .regions()
            .iter()
            .any(|r| r.code == args.region),
        "`{}` is not the code of a region",
        args.region
    );
    let data = tempfile::tempdir()?;
    eprintln!("generating {} households…", args.households);
    sanad_synth::generate(
        &sanad_synth::GenConfig {
            households: args.households,
            seed: args.seed,
            duplicate_rate: 0.0,
            reference_date: crate::commands::gen_reference_date(),
        },
        data.path(),
        &|_| {},
    )?;
    move_into_region(data.path(), &args.region)?;
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let started = Instant::now();
    let (ports, targeting, households, import_s) =
        super::targeting::populated("sqlite", &url, data.path()).await?;
    let system = Actor::system("bench");
    eprintln!("sqlite: scoring {households} households…");
    targeting.rescore_all(&system, true, &NoProgress).await?;
    // One province's eligible households of the first programme enrolled: the coverage gap is
    // not the whole of the eligible.
    let province = Territories::morocco()
        .provinces()
        .iter()
        .find(|p| p.region_code == args.region)
        .map(|p| p.code.clone())
        .context("a province of the region")?;
    let programme = targeting
        .engine()
        .programmes()
        .first()
        .map(|p| p.programme().code.clone())
        .context("a programme in force")?;
    let enrolled = targeting
        .enrol_eligible(&system, &programme, Some(&province), "benchmark")
        .await?;
    eprintln!(
        "sqlite: imported in {import_s:.1} s, ready in {:.1} s ({enrolled} enrolled in {programme})",
        started.elapsed().as_secs_f64()
    );

    let registry = Registry::new(ports.registry.clone());
    let payments = sanad_app::payments::Payments::new(
        registry.clone(),
        targeting.clone(),
        ports.payments.clone(),
    );
    let dashboard = Dashboard::new(ports.dashboard.clone(), Some(targeting.clone()));
    let app = sanad_http::router(
        sanad_http::AppState::new(registry)
            .with_targeting(targeting)
            .with_payments(payments)
            .with_dashboard(dashboard.clone()),
    );
    let mut account = Account::new(
        "bench-supervisor",
        Role::Supervisor,
        hash_password("bench")?,
    );
    account.territories = vec![args.region.clone()];
    ports.registry.upsert_account(&account).await?;
    let cookie = session_cookie(&app, "bench-supervisor", "bench").await?;

    // What a refresh of the figures costs (the aggregate queries over the million households).
    let mut reads = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        dashboard.refresh().await?;
        reads.push(started.elapsed());
    }
    reads.sort();

    let measures = [
        "households",
        "scored",
        "eligible",
        "enrolled",
        "paid",
        "under",
        "gap",
    ];
    let page = |uri: String, gzip: bool| {
        let mut req = Request::get(uri)
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, format!("{cookie}; sanad_lang=fr"));
        if gzip {
            req = req.header(header::ACCEPT_ENCODING, "gzip");
        }
        req.body(Body::empty())
    };
    let mut times = Vec::with_capacity(args.renders);
    let mut bytes = 0usize;
    let mut svg = 0usize;
    for i in 0..args.renders.max(1) {
        let uri = format!(
            "/?region={}&measure={}&programme={programme}",
            args.region,
            measures[i % measures.len()]
        );
        let started = Instant::now();
        let res = app.clone().oneshot(page(uri, false)?).await?;
        anyhow::ensure!(res.status().is_success(), "dashboard: {}", res.status());
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
        times.push(started.elapsed());
        if i == 0 {
            bytes = body.len();
            let text = String::from_utf8_lossy(&body);
            svg = text
                .split("<div class=\"map\">")
                .nth(1)
                .and_then(|rest| rest.split("</svg>").next())
                .map(|s| s.len() + 6)
                .unwrap_or(0);
        }
    }
    let res = app
        .clone()
        .oneshot(page(format!("/?region={}", args.region), true)?)
        .await?;
    let gzipped = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await?
        .len();
    times.sort();
    println!();
    println!(
        "dashboard benchmark: {households} households in region {}, release={}, cores={}",
        args.region,
        !cfg!(debug_assertions),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("| step | p50 ms | p95 ms | max ms |");
    println!("|---|---:|---:|---:|");
    println!(
        "| read the figures (aggregates per province; once a minute, in the background) | {:.1} | {:.1} | {:.1} |",
        ms(percentile(&reads, 0.5)),
        ms(percentile(&reads, 0.95)),
        ms(*reads.last().unwrap_or(&Duration::ZERO))
    );
    println!(
        "| render the region's dashboard ({} renders, the 7 measures in turn) | {:.2} | {:.2} | {:.2} |",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    );
    println!(
        "page: {} bytes ({} gzipped), of which the map's SVG {} bytes; regions map path data {} bytes",
        bytes,
        gzipped,
        svg,
        sanad_web::map::regions()
            .shapes
            .iter()
            .map(|(_, d)| d.len())
            .sum::<usize>()
    );
    let (raw, sent, files) = citizen_weight(&app, &ports.registry).await?;
    println!(
        "citizen's home in Arabic with its assets: {} KB sent over the wire (gzip where it helps), {} KB uncompressed; {files} files",
        sent / 1024,
        raw / 1024
    );
    Ok(())
}

/// Signs in through the API and returns the session cookie (`sanad_session=…`).
async fn session_cookie(
    app: &axum::Router,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    let login = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({"username": username, "password": password}).to_string(),
        ))?;
    let res = app.clone().oneshot(login).await?;
    anyhow::ensure!(
        res.status().is_success(),
        "login of {username}: {}",
        res.status()
    );
    Ok(res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sanad_session="))
        .and_then(|c| c.split(';').next())
        .context("a session cookie")?
        .to_string())
}

/// What a citizen's phone downloads for their home page in Arabic, the first time (nothing cached):
/// the page, then every asset it names and every font its style sheet names. Returns the bytes
/// uncompressed, the bytes sent (gzip accepted) and the number of files.
async fn citizen_weight(
    app: &axum::Router,
    registry: &std::sync::Arc<dyn sanad_app::RegistryStore>,
) -> anyhow::Result<(usize, usize, usize)> {
    let mut citizen = Account::new("bench-citizen", Role::Citizen, hash_password("bench")?);
    citizen.household_id = sanad_domain::HouseholdId::from_serial(1);
    registry.upsert_account(&citizen).await?;
    let cookie = session_cookie(app, "bench-citizen", "bench").await?;
    let fetch = |uri: String, gzip: bool| {
        let app = app.clone();
        let cookie = cookie.clone();
        async move {
            let mut req = Request::get(uri)
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, format!("{cookie}; sanad_lang=ar"));
            if gzip {
                req = req.header(header::ACCEPT_ENCODING, "gzip");
            }
            let res = app.oneshot(req.body(Body::empty())?).await?;
            anyhow::ensure!(res.status().is_success(), "{}", res.status());
            Ok::<Vec<u8>, anyhow::Error>(
                axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await?
                    .to_vec(),
            )
        }
    };
    let html = String::from_utf8(fetch("/".into(), false).await?)?;
    // Asset URLs of the page, then the fonts the style sheet names.
    let urls_in = |text: &str| -> Vec<String> {
        text.split("/assets/")
            .skip(1)
            .filter_map(|rest| {
                let end = rest.find(['"', '\'', ')', '#', ' '])?;
                Some(format!("/assets/{}", &rest[..end]))
            })
            .filter(|u| u.matches('/').count() == 3)
            .collect()
    };
    let mut urls = urls_in(&html);
    let mut raw = html.len();
    let mut sent = fetch("/".into(), true).await?.len();
    let mut i = 0;
    while i < urls.len() {
        let url = urls[i].clone();
        if urls[..i].contains(&url) {
            urls.remove(i);
            continue;
        }
        let body = fetch(url.clone(), false).await?;
        raw += body.len();
        sent += fetch(url.clone(), true).await?.len();
        if url.ends_with(".css") {
            urls.extend(urls_in(&String::from_utf8_lossy(&body)));
        }
        i += 1;
    }
    Ok((raw, sent, urls.len() + 1))
}
