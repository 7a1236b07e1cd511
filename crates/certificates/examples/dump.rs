#[path = "../tests/support/mod.rs"]
mod support;
fn main() {
    let key = support::key();
    for (i, kind) in sanad_certificates::Kind::ALL.into_iter().enumerate() {
        let c = support::certificate(kind, i as u32 + 1, &key);
        let s = key.sign(&c).unwrap();
        let t = std::time::Instant::now();
        let pdf = sanad_certificates::render_pdf(&s, support::BASE_URL).unwrap();
        println!("{} {} bytes {:?}", kind.code(), pdf.len(), t.elapsed());
        std::fs::write(format!("/tmp/cert-{}.pdf", kind.code()), &pdf).unwrap();
    }
}
