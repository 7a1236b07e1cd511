fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let e = match which.as_str() {
        "parens" => format!("{}1{} == 1", "(".repeat(200), ")".repeat(200)),
        "chain" => format!("{}1 == 1", "1 + ".repeat(500)),
        "nots" => format!("{}true", "!".repeat(3000)),
        "neg" => format!("{}1 == 1", "-".repeat(3000)),
        "ands" => format!("{}true", "true && ".repeat(500)),
        _ => String::new(),
    };
    println!(
        "{:?}",
        sanad_programmes::Rule::compile(&e)
            .err()
            .map(|e| e.to_string())
    );
}
