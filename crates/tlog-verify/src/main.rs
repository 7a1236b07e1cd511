//! `sanad-tlog-verify PROOF.json [--key VERIFIER_KEY]`: checks a proof bundle of Sanad's audit log
//! (made by `sanad audit prove`, `sanad audit consistency` or `GET /api/v1/audit/proofs/…`) and says
//! what it proves. With `--key`, the bundle must name that verifier key (the one the installation
//! publishes); without it, the key inside the bundle is used and printed, to be compared by hand.
//! Exit code 0: the proof holds; 1: it does not; 2: the command was wrong.

use std::process::ExitCode;

use sanad_tlog::bundle::{Bundle, Verified, verify};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = None;
    let mut key = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--key" => key = it.next().cloned(),
            "-h" | "--help" => {
                println!("usage: sanad-tlog-verify PROOF.json [--key VERIFIER_KEY]");
                return ExitCode::SUCCESS;
            }
            _ if file.is_none() => file = Some(arg.clone()),
            _ => {
                eprintln!(
                    "unexpected argument `{arg}`; usage: sanad-tlog-verify PROOF.json [--key VERIFIER_KEY]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let Some(file) = file else {
        eprintln!("usage: sanad-tlog-verify PROOF.json [--key VERIFIER_KEY]");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let bundle: Bundle = match serde_json::from_str(&text) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{file} is not a proof bundle: {e}");
            return ExitCode::from(1);
        }
    };
    match verify(&bundle, key.as_deref()) {
        Ok(Verified::Included {
            origin,
            leaf_index,
            tree_size,
            event,
        }) => {
            println!(
                "OK: the event is leaf {leaf_index} of the log {origin}, in its signed tree head of {tree_size} leaves"
            );
            for (name, value) in event.unwrap_or_default() {
                println!("  {name}: {value}");
            }
        }
        Ok(Verified::Consistent {
            origin,
            old_size,
            new_size,
        }) => println!(
            "OK: the log {origin} of {new_size} leaves extends its head of {old_size} leaves (nothing was rewritten)"
        ),
        Err(e) => {
            eprintln!("FAILED: {e}");
            return ExitCode::from(1);
        }
    }
    if key.is_none() {
        let vkey = match &bundle {
            Bundle::Inclusion(b) => &b.verifier_key,
            Bundle::Consistency(b) => &b.verifier_key,
        };
        println!(
            "  signed by {vkey} (compare it with the key the installation publishes, or pass --key)"
        );
    }
    ExitCode::SUCCESS
}
