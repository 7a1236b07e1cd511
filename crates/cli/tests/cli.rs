//! The binary as an operator uses it: help, configuration errors, gen → import → export, bad rows,
//! and a kill -9 in the middle of an import.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use sanad_storage::testkit;

/// Keys of the PostgreSQL test databases live in one temporary folder per database (SQLite keys
/// stand beside their database file), never in the source tree.
fn key_dir(url: &str) -> std::path::PathBuf {
    let name = url
        .rsplit('/')
        .next()
        .unwrap_or("db")
        .replace(['?', '&', '='], "_");
    let dir = std::env::temp_dir()
        .join(format!("sanad-cli-tests-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The data key file a command uses by default for `url`.
fn data_key_of(url: &str) -> std::path::PathBuf {
    match url.strip_prefix("sqlite://") {
        Some(path) => std::path::PathBuf::from(format!("{path}.data.key")),
        None => key_dir(url).join("data.key"),
    }
}

fn sanad() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sanad"));
    c.env_remove("SANAD_DATABASE_URL")
        .env_remove("SANAD_DATA_KEY_FILE")
        .env_remove("SANAD_AUDIT_KEY_FILE")
        .env_remove("SANAD_KEY_DIR")
        .env("SANAD_LOG", "warn");
    c
}

/// `sanad ARGS`, with a key directory for a PostgreSQL `--database-url`.
fn sanad_with(args: &[&str]) -> Command {
    let mut c = sanad();
    if let Some(i) = args.iter().position(|a| *a == "--database-url")
        && let Some(url) = args.get(i + 1)
        && url.starts_with("postgres")
    {
        c.env("SANAD_KEY_DIR", key_dir(url));
    }
    c.args(args);
    c
}

fn run(args: &[&str]) -> Output {
    sanad_with(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn generate(dir: &Path, households: u64, seed: u64, duplicates: f64) {
    let o = run(&[
        "gen",
        "--households",
        &households.to_string(),
        "--seed",
        &seed.to_string(),
        "--duplicate-rate",
        &duplicates.to_string(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn counts(url: &str) -> (u64, u64, u64) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let cipher = sanad_app::crypto::DataCipher::load_or_create(&data_key_of(url)).unwrap();
        let store = sanad_storage::connect(url, std::sync::Arc::new(cipher))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let c = store.region_counts().await.unwrap();
        let events = store.audit_events(0, u32::MAX).await.unwrap().len() as u64;
        (
            c.iter().map(|r| r.households).sum(),
            c.iter().map(|r| r.persons).sum(),
            events,
        )
    })
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count() - 1
}

#[test]
fn help_lists_every_subcommand_and_each_has_its_own() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for cmd in [
        "serve", "migrate", "demo", "gen", "import", "export", "audit", "admin", "bench",
    ] {
        assert!(text.contains(cmd), "{cmd} missing from --help");
        assert!(run(&[cmd, "--help"]).status.success(), "{cmd} --help");
    }
}

#[test]
fn a_wrong_or_unreachable_database_is_a_one_line_error() {
    for url in [
        "mysql://localhost/sanad",
        "postgres://nobody@127.0.0.1:1/sanad",
        "sqlite:///nonexistent-dir/x/sanad.db",
    ] {
        let o = run(&["--database-url", url, "migrate"]);
        assert_eq!(o.status.code(), Some(1), "{url}");
        let err = stderr(&o);
        assert!(err.starts_with("error: "), "{url}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{url}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn the_environment_names_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-env.db");
    let o = sanad()
        .env("SANAD_DATABASE_URL", format!("sqlite://{}", db.display()))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(db.exists());
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    generate(&a, 300, 42, 0.1);
    generate(&b, 300, 42, 0.1);
    generate(&c, 300, 43, 0.1);
    for f in ["households.csv", "persons.csv", "truth.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
        assert_ne!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(c.join(f)).unwrap(),
            "{f}"
        );
    }
}

fn round_trip(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("out");
    generate(&data, 800, 5, 0.1);
    let persons = std::fs::read_to_string(data.join("persons.csv")).unwrap();
    assert!(
        persons.contains(",+2126"),
        "phones travel through the round trip"
    );
    let o = run(&["--database-url", url, "import", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "--database-url",
        url,
        "export",
        "--out",
        out.to_str().unwrap(),
        "--purpose",
        "test",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["households.csv", "persons.csv"] {
        assert!(
            std::fs::read(data.join(f)).unwrap() == std::fs::read(out.join(f)).unwrap(),
            "{f}: export differs from the imported file"
        );
    }
    let o = run(&["--database-url", url, "audit", "verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("intact"));
}

#[test]
fn gen_import_export_round_trip_is_lossless_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(&format!("sqlite://{}", dir.path().join("r.db").display()));
}

#[tokio::test(flavor = "multi_thread")]
async fn gen_import_export_round_trip_is_lossless_on_postgres() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || round_trip(&url))
        .await
        .unwrap();
    db.cleanup().await;
}

/// Replaces one cell of a CSV file (line numbers count the header as 1).
fn corrupt(path: &Path, line: usize, column: &str, value: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let col = rows[0].iter().position(|c| c == column).unwrap();
    rows[line - 1][col] = value.to_string();
    let out: Vec<String> = rows.into_iter().map(|r| r.join(",")).collect();
    std::fs::write(path, out.join("\n") + "\n").unwrap();
}

#[test]
fn bad_rows_are_reported_and_nothing_is_written_unless_skip_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 200, 9, 0.0);
    let persons = data.join("persons.csv");
    corrupt(&persons, 5, "birth_date", "2020-02-31");
    corrupt(&persons, 7, "sex", "X");
    corrupt(&persons, 9, "birth_date", "2099-01-01");
    corrupt(&persons, 11, "phone", "06 12 34");
    corrupt(&data.join("households.csv"), 3, "commune_code", "99.999.99");
    let url = format!("sqlite://{}", dir.path().join("b.db").display());
    let report = dir.path().join("report.csv");

    let o = run(&[
        "--database-url",
        &url,
        "import",
        data.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing was imported"));
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.starts_with("file,line,field,message"), "{text}");
    assert!(text.contains("persons.csv,5,birth_date,"), "{text}");
    assert!(text.contains("persons.csv,7,sex,M or F"), "{text}");
    assert!(text.contains("persons.csv,9,birth_date,"), "{text}");
    assert!(
        text.contains("persons.csv,11,phone,a phone number such as 0612345678 or +212612345678"),
        "{text}"
    );
    assert!(text.contains("households.csv,3,commune_code,"), "{text}");
    assert_eq!(counts(&url), (0, 0, 0), "a failed import writes nothing");

    let o = run(&[
        "--database-url",
        &url,
        "import",
        data.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--skip-invalid",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "rejected rows still make the exit code non-zero"
    );
    let (households, persons, events) = counts(&url);
    assert!((195..200).contains(&households), "{households}");
    assert_eq!(events, households);
    assert!(persons > 0);
    let rejected_persons = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("persons.csv"))
        .count();
    assert!(persons as usize + rejected_persons >= lines(&persons_file(&data)));
}

fn persons_file(dir: &Path) -> std::path::PathBuf {
    dir.join("persons.csv")
}

#[test]
fn another_layout_is_read_through_a_column_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("menages.csv");
    let p = dir.path().join("individus.csv");
    std::fs::write(
        &h,
        "ID_MENAGE,COMMUNE,TYPE_LOGEMENT,STATUT,PIECES,EAU,ELEC,TEL,GAZ,BIENS,REVENU\n\
        H00000000013,01.511.01.0,apartment,tenant,3,50,120.5,0,45,tv;fridge,\"2500,00\"\n",
    )
    .unwrap();
    std::fs::write(
        &p,
        "ID,ID_MENAGE,LIEN,PRENOM,NOM,SEXE,DATE_NAISSANCE,CIN,SCOLARITE,ACTIVITE\n\
        P00000000013,H00000000013,head,Mohamed,El Idrissi,H,03/02/1970,bk 12345,primary,employed\n\
        P00000000021,H00000000013,spouse,Naima,Ouazzani,F,19751224,,none,homemaker\n",
    )
    .unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let maps = [
        "household_id=ID_MENAGE",
        "commune_code=COMMUNE",
        "dwelling_type=TYPE_LOGEMENT",
        "tenure=STATUT",
        "rooms=PIECES",
        "water_spending=EAU",
        "electricity_spending=ELEC",
        "phone_spending=TEL",
        "gas_spending=GAZ",
        "assets=BIENS",
        "declared_income=REVENU",
        "person_id=ID",
        "relation=LIEN",
        "first_name=PRENOM",
        "last_name=NOM",
        "sex=SEXE",
        "birth_date=DATE_NAISSANCE",
        "national_id=CIN",
        "schooling=SCOLARITE",
        "occupation=ACTIVITE",
    ];
    let mut args = vec![
        "--database-url",
        &url,
        "import",
        "--households",
        h.to_str().unwrap(),
        "--persons",
        p.to_str().unwrap(),
    ];
    for m in &maps {
        args.push("--map");
        args.push(m);
    }
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("out");
    assert!(
        run(&[
            "--database-url",
            &url,
            "export",
            "--out",
            out.to_str().unwrap(),
            "--purpose",
            "test",
        ])
        .status
        .success()
    );
    let persons = std::fs::read_to_string(out.join("persons.csv")).unwrap();
    assert!(persons.contains("P00000000013,H00000000013,head,Mohamed,El Idrissi,,,M,1970-02-03,BK12345,none,primary,employed"), "{persons}");
    assert!(persons.contains("1975-12-24"));
    assert!(
        std::fs::read_to_string(out.join("households.csv"))
            .unwrap()
            .contains(",2500.00")
    );

    let o = run(&[
        "--database-url",
        &url,
        "import",
        "--households",
        h.to_str().unwrap(),
        "--persons",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("missing column `household_id`"),
        "{}",
        stderr(&o)
    );
}

/// Starts an import, waits until it is writing, kills it with SIGKILL, and checks that the store is
/// as it was; then imports again and checks that nothing is doubled.
fn kill_mid_import(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 25_000, 11, 0.0);
    let expected_persons = lines(&data.join("persons.csv")) as u64;
    assert_eq!(counts(url), (0, 0, 0));

    let mut child = sanad_with(&["--database-url", url, "import", data.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the import ended before writing"
        );
        if line.starts_with("writing") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        None,
        "the import was still running when killed"
    );

    assert_eq!(
        counts(url),
        (0, 0, 0),
        "a killed import leaves the store as it was"
    );
    let o = run(&["--database-url", url, "import", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        counts(url),
        (25_000, expected_persons, 25_000),
        "imported once, nothing doubled"
    );
    let o = run(&["--database-url", url, "audit", "verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn kill_9_in_the_middle_of_an_import_loses_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_mid_import(&format!("sqlite://{}", dir.path().join("k.db").display()));
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_in_the_middle_of_an_import_loses_nothing_on_postgres() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || kill_mid_import(&url))
        .await
        .unwrap();
    db.cleanup().await;
}

/// Backup then restore into a new database gives the same registry, history and audit trail.
fn backup_and_restore(url: &str, restored_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 300, 21, 0.05);
    assert!(
        run(&["--database-url", url, "import", data.to_str().unwrap()])
            .status
            .success()
    );
    let archive = dir.path().join("sanad.backup");
    let o = run(&[
        "--database-url",
        url,
        "backup",
        "--out",
        archive.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "--database-url",
        url,
        "backup",
        "--out",
        archive.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "a backup never overwrites a file");
    let o = run(&[
        "--database-url",
        restored_url,
        "restore",
        "--from",
        archive.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The keys are not in the backup: the restore says where the backed-up installation's key
    // files go, and the restored database refuses to open until they are there.
    assert!(
        stderr(&o).contains("is not in the backup"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--database-url", restored_url, "audit", "verify"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let audit_of = |url: &str| {
        data_key_of(url).with_file_name(
            data_key_of(url)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace("data.key", "audit.key"),
        )
    };
    let certificate_of = |url: &str| {
        data_key_of(url).with_file_name(
            data_key_of(url)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace("data.key", "certificate.key"),
        )
    };
    std::fs::copy(data_key_of(url), data_key_of(restored_url)).unwrap();
    std::fs::copy(audit_of(url), audit_of(restored_url)).unwrap();
    std::fs::copy(certificate_of(url), certificate_of(restored_url)).unwrap();
    let o = run(&[
        "--database-url",
        restored_url,
        "restore",
        "--from",
        archive.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a restore never overwrites a registry"
    );
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert!(
        run(&[
            "--database-url",
            url,
            "export",
            "--out",
            a.to_str().unwrap(),
            "--purpose",
            "test",
        ])
        .status
        .success()
    );
    assert!(
        run(&[
            "--database-url",
            restored_url,
            "export",
            "--out",
            b.to_str().unwrap(),
            "--purpose",
            "test",
        ])
        .status
        .success()
    );
    for f in ["households.csv", "persons.csv"] {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs after restore"
        );
    }
    assert_eq!(counts(url), counts(restored_url));
    let o = run(&["--database-url", restored_url, "audit", "verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn backup_then_restore_gives_the_same_registry_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    backup_and_restore(
        &format!("sqlite://{}", dir.path().join("live.db").display()),
        &format!("sqlite://{}", dir.path().join("restored.db").display()),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_then_restore_gives_the_same_registry_on_postgres() {
    let Some(live) = testkit::postgres().await else {
        return;
    };
    let Some(restored) = testkit::postgres_empty().await else {
        return;
    };
    let (a, b) = (live.url.clone(), restored.url.clone());
    tokio::task::spawn_blocking(move || backup_and_restore(&a, &b))
        .await
        .unwrap();
    live.cleanup().await;
    restored.cleanup().await;
}

#[test]
fn dedup_finds_the_duplicates_of_a_csv_and_of_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 600, 17, 0.1);
    let pairs = dir.path().join("pairs.csv");
    let clusters = dir.path().join("clusters.csv");
    let o = run(&[
        "dedup",
        "--csv",
        data.join("persons.csv").to_str().unwrap(),
        "--households",
        data.join("households.csv").to_str().unwrap(),
        "--out",
        pairs.to_str().unwrap(),
        "--clusters",
        clusters.to_str().unwrap(),
        "--truth",
        data.join("truth.csv").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    let f1: f64 = report
        .split("F1 ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(f1 > 0.9, "{report}");
    let text = std::fs::read_to_string(&pairs).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert!(header.len() > 4, "{header:?}");
    assert!(
        text.lines().nth(1).unwrap().starts_with('P'),
        "record ids first"
    );
    assert!(lines(&clusters) > 0);

    // Garbage in: a missing mapped column is a one-line error naming it.
    let o = run(&[
        "dedup",
        "--csv",
        data.join("persons.csv").to_str().unwrap(),
        "--map",
        "first_name=PRENOM",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("PRENOM"), "{}", stderr(&o));

    // Over the registry, the pairs go to the review queue.
    let url = format!("sqlite://{}", dir.path().join("d.db").display());
    assert!(
        run(&["--database-url", &url, "import", data.to_str().unwrap()])
            .status
            .success()
    );
    let o = run(&["--database-url", &url, "dedup"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("queued for review"), "{}", stderr(&o));
    let queued: usize = stderr(&o)
        .split(" new pairs queued")
        .next()
        .unwrap()
        .rsplit('\n')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(queued > 50, "{}", stderr(&o));
}

/// The story: the same SQLite file, started from another directory. The keys stand beside
/// the database, so it just works; a key file given that is not the database's is refused with
/// exit code 2 and one line naming the file and both fingerprints, and nothing is written.
#[test]
fn the_keys_follow_the_database_and_a_second_key_is_refused_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 50, 3, 0.0);
    let db = dir.path().join("registry.db");
    let url = format!("sqlite://{}", db.display());
    let o = run(&["--database-url", &url, "import", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("registry.db.data.key").exists());
    assert!(dir.path().join("registry.db.audit.key").exists());
    let elsewhere = tempfile::tempdir().unwrap();
    let o = sanad()
        .current_dir(elsewhere.path())
        .args(["--database-url", &url, "audit", "verify"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "no key file in the working directory"
    );
    let before = counts(&url);

    let other = elsewhere.path().join("other.key");
    for cmd in [
        &["export", "--out", "x", "--purpose", "test"][..],
        &["serve", "--bind", "127.0.0.1:0"],
        &["admin", "create-user", "--username", "u", "--role", "agent"],
        &["dedup"],
        &["import", data.to_str().unwrap()],
    ] {
        // A key file that is not there is not created…
        let o = sanad()
            .current_dir(elsewhere.path())
            .env("SANAD_DATA_KEY_FILE", &other)
            .args(["--database-url", &url])
            .args(cmd)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {}", stderr(&o));
        assert!(!other.exists(), "{cmd:?} created a key file");
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
    }
    // …and one that is there but another key is refused, naming it and both fingerprints.
    std::fs::write(&other, "ab".repeat(32)).unwrap();
    let o = sanad()
        .env("SANAD_DATA_KEY_FILE", &other)
        .args(["--database-url", &url, "export", "--out"])
        .arg(elsewhere.path().join("out"))
        .args(["--purpose", "test"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&other.display().to_string()), "{err}");
    let fingerprints = err
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() == 32)
        .count();
    assert_eq!(fingerprints, 2, "both fingerprints: {err}");
    assert!(!elsewhere.path().join("out").exists());
    // The audit key too.
    let o = sanad()
        .env("SANAD_AUDIT_KEY_FILE", &other)
        .args(["--database-url", &url, "audit", "checkpoint"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(counts(&url), before, "nothing was written");
}

/// A demo directory from an earlier version: `sanad-demo.db` with `sanad-data.key` and
/// `sanad-audit.key` beside it keeps working (with a note saying where the keys now go).
#[test]
fn an_older_demo_directory_keeps_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 20, 4, 0.0);
    let url = format!("sqlite://{}", dir.path().join("sanad-demo.db").display());
    let o = sanad()
        .env("SANAD_DATA_KEY_FILE", dir.path().join("sanad-data.key"))
        .env("SANAD_AUDIT_KEY_FILE", dir.path().join("sanad-audit.key"))
        .args(["--database-url", &url, "import", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["--database-url", &url, "audit", "checkpoint"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("earlier version"), "{}", stderr(&o));
    assert!(!dir.path().join("sanad-demo.db.data.key").exists());
}

/// kill -9 at random moments of a data-key rotation over some thousands of persons: every time, the
/// database is wholly under one key, the one it records; run again, the rotation finishes, the
/// export gives back the same registry and the audit chain holds.
fn kill_mid_rotation(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 2_000, 13, 0.0);
    let o = run(&["--database-url", url, "import", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let old_file = data_key_of(url);
    let new_file = dir.path().join("new-data.key");
    let old = sanad_app::crypto::DataCipher::load(&old_file)
        .unwrap()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let state = |new: &sanad_app::crypto::DataCipher| {
        runtime.block_on(async {
            let db = sanad_storage::Database::connect(url).await.unwrap();
            let keyring = db.keyring();
            let active = keyring
                .installation_keys()
                .await
                .unwrap()
                .into_iter()
                .find(|k| k.kind == sanad_app::keyring::KeyKind::Data && k.active)
                .unwrap()
                .fingerprint;
            (
                active,
                keyring.count_sealed(&old).await.unwrap(),
                keyring.count_sealed(new).await.unwrap(),
            )
        })
    };
    let rotate = || {
        sanad_with(&[
            "--database-url",
            url,
            "admin",
            "rotate-data-key",
            "--new-key",
            new_file.to_str().unwrap(),
        ])
    };
    let mut killed = 0;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for _ in 0..4 {
        let mut child = rotate().stderr(Stdio::piped()).spawn().unwrap();
        let mut reader = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && !line.contains("resealing") {
            line.clear();
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // A rotation of these few thousand values takes some hundreds of milliseconds: a kill
        // within the first 120 lands in the middle of it (the stderr line comes at its start).
        std::thread::sleep(Duration::from_millis((seed >> 33) % 120));
        child.kill().unwrap();
        if child.wait().unwrap().code().is_none() {
            killed += 1;
        }
        let new = sanad_app::crypto::DataCipher::load(&new_file)
            .unwrap()
            .unwrap();
        let (active, under_old, under_new) = state(&new);
        let total = under_old.opened + under_old.refused;
        assert!(total > 5_000, "some thousands of sealed values: {total}");
        if active == old.fingerprint() {
            assert_eq!(
                (under_old.refused, under_new.opened),
                (0, 0),
                "all under the old key"
            );
        } else {
            assert_eq!(active, new.fingerprint());
            assert_eq!(
                (under_new.refused, under_old.opened),
                (0, 0),
                "all under the new key"
            );
            break;
        }
    }
    assert!(killed > 0, "no kill landed during a rotation");
    let o = rotate().output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("data_key_file"),
        "it says what to change"
    );
    let new = sanad_app::crypto::DataCipher::load(&new_file)
        .unwrap()
        .unwrap();
    let (active, under_old, under_new) = state(&new);
    assert_eq!(active, new.fingerprint());
    assert_eq!(
        (under_old.opened, under_new.refused),
        (0, 0),
        "nothing sealed twice or left behind"
    );
    // Configured with the new key, the registry is whole; the old key is refused.
    let with_new = |args: &[&str]| {
        sanad_with(args)
            .env("SANAD_DATA_KEY_FILE", &new_file)
            .output()
            .unwrap()
    };
    let out = dir.path().join("out");
    let o = with_new(&[
        "--database-url",
        url,
        "export",
        "--out",
        out.to_str().unwrap(),
        "--purpose",
        "test",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["households.csv", "persons.csv"] {
        assert!(
            std::fs::read(data.join(f)).unwrap() == std::fs::read(out.join(f)).unwrap(),
            "{f}: the export after rotation differs from the imported file"
        );
    }
    let o = with_new(&["--database-url", url, "audit", "verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["--database-url", url, "audit", "verify"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "the old key is retired: {}",
        stderr(&o)
    );
}

#[test]
fn kill_9_during_a_data_key_rotation_loses_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_mid_rotation(&format!("sqlite://{}", dir.path().join("rot.db").display()));
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_a_data_key_rotation_loses_nothing_on_postgres() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || kill_mid_rotation(&url))
        .await
        .unwrap();
    db.cleanup().await;
}

/// The audit key is rotated: old checkpoints still verify against the new key file alone.
#[test]
fn after_an_audit_key_rotation_audit_verify_trusts_the_old_heads() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 20, 6, 0.0);
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    assert!(
        run(&["--database-url", &url, "import", data.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        run(&["--database-url", &url, "audit", "checkpoint"])
            .status
            .success()
    );
    let new_key = dir.path().join("new-audit.key");
    let o = run(&[
        "--database-url",
        &url,
        "admin",
        "rotate-audit-key",
        "--new-key",
        new_key.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let with_new = |args: &[&str]| {
        sanad_with(args)
            .env("SANAD_AUDIT_KEY_FILE", &new_key)
            .output()
            .unwrap()
    };
    assert!(
        with_new(&["--database-url", &url, "audit", "checkpoint"])
            .status
            .success()
    );
    let o = with_new(&["--database-url", &url, "audit", "verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("2 signed tree heads") && text.contains("1 earlier key"),
        "{text}"
    );
    let o = run(&["--database-url", &url, "audit", "checkpoint"]);
    assert_eq!(o.status.code(), Some(2), "the old audit key is retired");
    let o = run(&["--database-url", &url, "admin", "show-keys"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.matches("retired").count(), 1, "{text}");
    assert_eq!(
        text.matches("active").count(),
        3,
        "data, audit and certificate keys: {text}"
    );
}

/// The certificate key is tied to the database like the others: another key file is refused
/// (exit code 2), a rotation keeps the old public key published, and the retired file is refused
/// afterwards.
#[test]
fn the_certificate_key_is_refused_when_it_is_not_the_database_s_and_rotates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 5, 3, 0.0);
    let db = dir.path().join("c.db");
    let url = format!("sqlite://{}", db.display());
    let o = run(&["--database-url", &url, "import", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let default_file = dir.path().join("c.db.certificate.key");
    assert!(
        default_file.exists(),
        "created beside the database on first run"
    );

    let stranger = dir.path().join("stranger.key");
    let o = sanad_with(&["--database-url", &url, "admin", "show-keys"])
        .env("SANAD_CERTIFICATE_KEY_FILE", &stranger)
        .output()
        .unwrap();
    assert!(o.status.success(), "show-keys opens no key: {}", stderr(&o));
    let o = sanad_with(&["--database-url", &url, "migrate"])
        .env("SANAD_CERTIFICATE_KEY_FILE", &stranger)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("certificate key"), "{}", stderr(&o));
    assert!(!stranger.exists(), "no second key is created");

    let next = dir.path().join("next-certificate.key");
    let o = run(&[
        "--database-url",
        &url,
        "admin",
        "rotate-certificate-key",
        "--new-key",
        next.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("stays published"));
    let o = run(&["--database-url", &url, "migrate"]);
    assert_eq!(o.status.code(), Some(2), "the old file is retired");
    assert!(stderr(&o).contains("retired"), "{}", stderr(&o));
    let o = sanad_with(&["--database-url", &url, "migrate"])
        .env("SANAD_CERTIFICATE_KEY_FILE", &next)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["--database-url", &url, "admin", "show-keys"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("certificate retired") && text.contains("certificate active"),
        "{text}"
    );
}

/// A backup whose tool fails half-way (a pg_dump that writes part of an archive, then dies) leaves
/// no file behind.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_backup_leaves_no_file_behind() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let fake = bin.join("pg_dump");
        std::fs::write(
            &fake,
            "#!/bin/sh\n# writes half an archive to the --file argument, then fails\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --file ]; then printf PGDMP-half > \"$2\"; fi; shift; done\necho 'pg_dump: error: connection lost' >&2\nexit 1\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let out = dir.path().join("backups").join("sanad.backup");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let o = sanad_with(&["--database-url", &url, "backup", "--out", out.to_str().unwrap()])
            .env("PATH", path)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("connection lost"), "{}", stderr(&o));
        let left: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    })
    .await
    .unwrap();
    db.cleanup().await;
}

/// A server still running when its data key is rotated away stops (exit code 2) instead of going
/// on sealing under the retired key.
#[test]
fn a_server_stops_when_its_data_key_is_rotated_away() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, 20, 8, 0.0);
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    assert!(
        run(&["--database-url", &url, "import", data.to_str().unwrap()])
            .status
            .success()
    );
    let mut server = sanad_with(&["--database-url", &url, "serve", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 && !line.contains("listening") {
        line.clear();
    }
    let new_key = dir.path().join("new.key");
    let o = run(&[
        "--database-url",
        &url,
        "admin",
        "rotate-data-key",
        "--new-key",
        new_key.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = server.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{rest}");
    assert!(rest.contains("rotated away while serving"), "{rest}");

    // The same for the audit key (the server signs checkpoints).
    let serve_args = ["--database-url", &url, "serve", "--bind", "127.0.0.1:0"];
    let mut server = sanad_with(&serve_args)
        .env("SANAD_DATA_KEY_FILE", &new_key)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 && !line.contains("listening") {
        line.clear();
    }
    let new_audit = dir.path().join("new-audit.key");
    let o = sanad_with(&[
        "--database-url",
        &url,
        "admin",
        "rotate-audit-key",
        "--new-key",
        new_audit.to_str().unwrap(),
    ])
    .env("SANAD_DATA_KEY_FILE", &new_key)
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    assert_eq!(server.wait().unwrap().code(), Some(2), "{rest}");
    assert!(rest.contains("audit key file"), "{rest}");
}

/// On PostgreSQL the keys live in `key_dir`: another directory (a second installation's, or an
/// empty one) is refused with exit code 2, and no key is created in it.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_key_dir_is_refused_on_postgres() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        generate(&data, 30, 9, 0.0);
        let o = run(&["--database-url", &url, "import", data.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = sanad()
            .args(["--database-url", &url, "migrate"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "no key_dir: {}", stderr(&o));
        assert!(stderr(&o).contains("SANAD_KEY_DIR"), "{}", stderr(&o));
        let other = dir.path().join("other-keys");
        std::fs::create_dir_all(&other).unwrap();
        let with_dir = |args: &[&str]| {
            sanad()
                .env("SANAD_KEY_DIR", &other)
                .args(["--database-url", &url])
                .args(args)
                .output()
                .unwrap()
        };
        let o = with_dir(&["serve", "--bind", "127.0.0.1:0"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(
            std::fs::read_dir(&other).unwrap().count(),
            0,
            "no key created"
        );
        std::fs::write(other.join("data.key"), "cd".repeat(32)).unwrap();
        let o = with_dir(&["admin", "create-user", "--username", "x", "--role", "agent"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
        assert!(stderr(&o).contains("other-keys/data.key"), "{}", stderr(&o));
        let o = run(&["--database-url", &url, "audit", "verify"]);
        assert!(o.status.success(), "{}", stderr(&o));
    })
    .await
    .unwrap();
    db.cleanup().await;
}

/// The operator folds the imported events into the audit log, proves one household's registration
/// and that the log only grew between two heads; the bundles check as the standalone verifier
/// checks them, and `audit verify` reports the tree.
#[test]
fn an_operator_proves_a_registration_and_the_log_only_grew() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let data = dir.path().join("data");
    generate(&data, 40, 9, 0.0);
    let o = run(&["--database-url", &url, "import", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["--database-url", &url, "audit", "verify"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success() && text.contains("40 events committed and waiting"),
        "{text}"
    );
    let o = run(&["--database-url", &url, "audit", "integrate"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains("integrated 40 events: signed tree head of 40 leaves"),
        "{text}"
    );

    let households = std::fs::read_to_string(data.join("households.csv")).unwrap();
    let mut rows = households.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == "household_id").unwrap();
    let id = rows
        .nth(3)
        .unwrap()
        .split(',')
        .nth(col)
        .unwrap()
        .to_string();
    let proof = dir.path().join("proof.json");
    let o = run(&[
        "--database-url",
        &url,
        "audit",
        "prove",
        "--household",
        &id,
        "--out",
        proof.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bundle: sanad_tlog::bundle::Bundle =
        serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    match sanad_tlog::bundle::verify(&bundle, None).unwrap() {
        sanad_tlog::bundle::Verified::Included {
            tree_size, event, ..
        } => {
            assert_eq!(tree_size, 40);
            let event = event.unwrap();
            assert!(event.contains(&("entity_id", id.clone())), "{event:?}");
            assert!(event.contains(&("action", "household.import".to_string())));
        }
        other => panic!("{other:?}"),
    }

    // A disclosure adds an event; a new head; the consistency proof between the two.
    let o = run(&[
        "--database-url",
        &url,
        "export",
        "--out",
        dir.path().join("out").to_str().unwrap(),
        "--purpose",
        "test",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        run(&["--database-url", &url, "audit", "integrate"])
            .status
            .success()
    );
    let o = run(&[
        "--database-url",
        &url,
        "audit",
        "consistency",
        "--old",
        "40",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bundle: sanad_tlog::bundle::Bundle = serde_json::from_slice(&o.stdout).unwrap();
    assert!(matches!(
        sanad_tlog::bundle::verify(&bundle, None).unwrap(),
        sanad_tlog::bundle::Verified::Consistent {
            old_size: 40,
            new_size: 41,
            ..
        }
    ));
    let o = run(&[
        "--database-url",
        &url,
        "audit",
        "consistency",
        "--old",
        "39",
    ]);
    assert!(
        !o.status.success() && stderr(&o).contains("no signed tree head of that size"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--database-url", &url, "audit", "verify"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success()
            && text.contains("tree of 41 leaves")
            && text.contains("2 signed tree heads verified against the installation key"),
        "{text}"
    );
}
