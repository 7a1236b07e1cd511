use std::time::Instant;
fn main() {
    let t = Instant::now();
    let m = Default::default();
    let recs = sanad_dedup::read_csv("/tmp/dd/persons.csv", &m).unwrap();
    eprintln!("read {:?} {}", t.elapsed(), recs.len());
}
