use std::collections::HashMap;
fn main() {
    let m = Default::default();
    let mut recs = sanad_dedup::read_csv("/tmp/dd/persons.csv", &m).unwrap();
    sanad_dedup::attach_communes(
        &mut recs,
        "/tmp/dd/households.csv",
        "household_id",
        "commune_code",
    )
    .unwrap();
    let ent = sanad_dedup::read_truth("/tmp/dd/truth.csv", &recs).unwrap();
    let mut g: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, e) in ent.iter().enumerate() {
        g.entry(*e).or_default().push(i as u32);
    }
    let pairs: Vec<(u32, u32)> = g
        .values()
        .filter(|v| v.len() == 2)
        .map(|v| (v[0], v[1]))
        .collect();
    let lv = sanad_dedup::debug_levels(&recs, &pairs);
    println!("TRUE m over {} pairs", pairs.len());
    for f in 0..sanad_dedup::N_FIELDS {
        let names = sanad_dedup::LEVELS[f];
        let mut c = vec![0usize; names.len()];
        for l in &lv {
            c[l[f] as usize] += 1;
        }
        let nn: usize = c[1..].iter().sum();
        let s: Vec<String> = (1..names.len())
            .map(|k| format!("{}={:.4}", names[k], c[k] as f64 / nn.max(1) as f64))
            .collect();
        println!("{} (null {}) {}", sanad_dedup::FIELDS[f], c[0], s.join(" "));
    }
    let r = sanad_dedup::deduplicate(&recs, &Default::default()).unwrap();
    println!("MODEL lambda {:e} {:?}", r.model.lambda, r.model.training);
    for f in &r.model.fields {
        println!(
            "{} {}",
            f.field,
            f.levels[1..]
                .iter()
                .map(|l| format!(
                    "{}: m={:.4} u={:.2e} w={:.1}{}",
                    l.level,
                    l.m,
                    l.u,
                    l.weight,
                    if l.estimated { "" } else { "*" }
                ))
                .collect::<Vec<_>>()
                .join("  ")
        );
    }
    let ev = sanad_dedup::evaluate_entities(&r, &ent);
    println!(
        "pairs P {:.4} R {:.4} F1 {:.4} | clusters F1 {:.4} | blocking recall {:.4} | review true {} false {}",
        ev.pair_precision,
        ev.pair_recall,
        ev.pair_f1,
        ev.cluster_f1,
        ev.blocking_recall,
        ev.review_true_pairs,
        ev.review_false_pairs
    );
    // weight distribution of true pairs vs false
    let mut fn_pairs = 0;
    let matched: std::collections::HashSet<(u32, u32)> = r.matches().map(|p| (p.a, p.b)).collect();
    let mut fn_levels: HashMap<Vec<u8>, usize> = HashMap::new();
    for (k, &(a, b)) in pairs.iter().enumerate() {
        let key = (a.min(b), a.max(b));
        if !matched.contains(&key) && r.reachable(a as usize, b as usize) {
            fn_pairs += 1;
            *fn_levels.entry(lv[k].to_vec()).or_default() += 1;
        }
    }
    let mut v: Vec<_> = fn_levels.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1));
    println!("FN reachable {fn_pairs}; top patterns:");
    for (l, c) in v.iter().take(15) {
        println!("  {:?} {}", l, c);
    }
    let mut fp: HashMap<Vec<u8>, usize> = HashMap::new();
    for p in r.matches() {
        if ent[p.a as usize] != ent[p.b as usize] {
            *fp.entry(p.levels.to_vec()).or_default() += 1;
        }
    }
    let mut v: Vec<_> = fp.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1));
    let mut shown = 0;
    for p in r.matches() {
        if ent[p.a as usize] != ent[p.b as usize]
            && p.levels[..8] == [1, 1, 1, 0, 1, 4, 2, 0]
            && shown < 8
        {
            shown += 1;
            let (a, b) = (&recs[p.a as usize], &recs[p.b as usize]);
            println!("FP w={:.1} {:?}\n   {:?}", p.weight, a, b);
        }
    }
    println!("FP top patterns:");
    for (l, c) in v.iter().take(15) {
        println!("  {:?} {}", l, c);
    }
}
#[allow(dead_code)]
fn unused() {}
