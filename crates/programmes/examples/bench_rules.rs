//! How fast the rules run: ns per household for a count over generated facts, and for deciding
//! every shipped programme on one household.
//!
//! `cargo run --release -p sanad-programmes --example bench_rules -- [households] [threads]`
//! (defaults: 1 000 000 households, 2 threads). Prints a table; asserts nothing about time.

use std::time::Instant;

use sanad_domain::{
    Amount, Area, Asset, AssetSet, Disability, DwellingType, HouseholdFacts, MemberFacts,
    Occupation, Relation, Schooling, Sex, Tenure,
};
use sanad_programmes::{CompiledProgramme, Programme, Rule, shipped};
use time::macros::date;

/// CPU seconds this process has used (user + system, all threads), from /proc: on a shared
/// machine the wall clock measures the neighbours too, the CPU time does not. `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((utime + stime) / 100.0)
}

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn member(g: &mut Gen, relation: Relation, age: u8) -> MemberFacts {
    let student = (6..=18).contains(&age) && g.below(10) < 8;
    MemberFacts {
        person_id: None,
        relation,
        sex: g.pick(Sex::ALL),
        age,
        disability: if g.below(20) == 0 {
            g.pick(&Disability::ALL[1..])
        } else {
            Disability::None
        },
        schooling: if age < 6 {
            Schooling::None
        } else {
            g.pick(Schooling::ALL)
        },
        occupation: if student {
            Occupation::Student
        } else {
            g.pick(Occupation::ALL)
        },
    }
}

fn household(g: &mut Gen) -> HouseholdFacts {
    let mut members = {
        let age = 25 + g.below(55) as u8;
        vec![member(g, Relation::Head, age)]
    };
    if g.below(10) < 8 {
        let age = 22 + g.below(50) as u8;
        members.push(member(g, Relation::Spouse, age));
    }
    for _ in 0..g.below(6) {
        let age = g.below(22) as u8;
        members.push(member(g, Relation::Child, age));
    }
    if g.below(10) == 0 {
        let age = 60 + g.below(30) as u8;
        members.push(member(g, Relation::Parent, age));
    }
    let money = |g: &mut Gen, max: i64| {
        Amount::from_centimes(g.below(max as u64) as i64).unwrap_or_default()
    };
    let assets: AssetSet = Asset::ALL
        .iter()
        .copied()
        .filter(|_| g.below(3) == 0)
        .collect();
    HouseholdFacts {
        region_code: format!("{:02}", 1 + g.below(12)),
        area: if g.below(10) < 4 {
            Area::Rural
        } else {
            Area::Urban
        },
        dwelling_type: g.pick(DwellingType::ALL),
        tenure: g.pick(Tenure::ALL),
        rooms: 1 + g.below(6) as u16,
        water_spending: money(g, 30_000),
        electricity_spending: money(g, 60_000),
        phone_spending: money(g, 30_000),
        gas_spending: money(g, 15_000),
        assets,
        declared_income: money(g, 1_000_000),
        members,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let on = date!(2024 - 06 - 01);

    let started = Instant::now();
    let mut g = Gen(0x5EED_1234_ABCD_0001);
    let households: Vec<HouseholdFacts> = (0..n).map(|_| household(&mut g)).collect();
    let indexes: Vec<Option<f64>> = (0..n)
        .map(|_| (g.below(50) != 0).then(|| 8.6 + g.below(1_400) as f64 / 1_000.0))
        .collect();
    println!(
        "generated {n} households in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let rules = [
        ("threshold", "household.index <= 9.3264284"),
        (
            "asd-like",
            "household.index <= 9.3264284 && members.exists(m, m.age <= 20 && !(m.relation in ['head', 'spouse']))",
        ),
        (
            "school",
            "household.scored && household.index < 9.4 && members.exists(m, m.age >= 6 && m.age <= 15) && members.all(m, m.age < 6 || m.age > 15 || m.occupation == 'student')",
        ),
        (
            "counting",
            "size(members.filter(m, m.age < 18)) >= 2 && household.electricity_spending / household.size < 80.0 && !('car' in household.assets)",
        ),
    ];
    println!();
    println!("| rule | threads | admitted | wall ms | wall ns/household | CPU ns/household |");
    println!("|---|---|---|---|---|---|");
    for (name, text) in rules {
        let rule = match Rule::compile(text) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{name}: {e}");
                std::process::exit(1);
            }
        };
        for t in [1, threads] {
            // Several rounds, so that the CPU clock's 10 ms ticks are small against the total.
            let rounds = 5;
            let cpu = cpu_seconds();
            let started = Instant::now();
            let mut admitted = 0;
            for _ in 0..rounds {
                admitted = rule.count_parallel(&households, &indexes, on, t);
            }
            let elapsed = started.elapsed() / rounds;
            let cpu = match (cpu, cpu_seconds()) {
                (Some(a), Some(b)) => {
                    format!("{:.1}", (b - a) * 1e9 / (n as f64 * f64::from(rounds)))
                }
                _ => "-".to_owned(),
            };
            println!(
                "| {name} | {t} | {admitted} | {:.1} | {:.1} | {cpu} |",
                elapsed.as_secs_f64() * 1e3,
                elapsed.as_nanos() as f64 / n as f64
            );
        }
    }

    let programmes: Vec<CompiledProgramme> = shipped()
        .into_iter()
        .filter_map(
            |(file, text)| match Programme::from_toml(text).and_then(|p| p.compile()) {
                Ok(p) => Some(p),
                Err(e) => {
                    eprintln!("{file}: {e}");
                    None
                }
            },
        )
        .collect();
    let sample = n.min(200_000);
    let cpu = cpu_seconds();
    let started = Instant::now();
    let mut eligible = 0usize;
    let mut paid: i64 = 0;
    for (facts, index) in households.iter().zip(&indexes).take(sample) {
        for p in &programmes {
            let d = p.decide(facts, *index, on);
            eligible += usize::from(d.eligible);
            paid += d.amount.centimes();
        }
    }
    let elapsed = started.elapsed();
    let cpu = match (cpu, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{:.0}", (b - a) * 1e9 / sample as f64),
        _ => "-".to_owned(),
    };
    println!();
    println!(
        "decide all {} shipped programmes, 1 thread: {:.0} ns/household wall, {cpu} ns CPU, over {sample} households ({eligible} eligible decisions, {:.0} MAD per period)",
        programmes.len(),
        elapsed.as_nanos() as f64 / sample as f64,
        paid as f64 / 100.0
    );
}
