//! A bench without its window, for the crash tests: the bench app's journal and its
//! network thread (the same code), fed with actions from a file.
//!
//! ```sh
//! filiere-bench-agent --dir DIR --server URL --token SESSION [--ops ops.json] [--until-drained]
//! ```
//! Prints `journaled N` after each action is on disk, `settled A R` (accepted, refused)
//! as answers come, and `drained` before exiting with `--until-drained`.

use clap::Parser;
use filiere_shared::api::BatchOp;
use filiere_workstation::journal::{Journal, Outcome};
use filiere_workstation::net::{Net, Reply};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    dir: std::path::PathBuf,
    #[arg(long)]
    server: String,
    /// A technician's session token (from a badge sign-in).
    #[arg(long)]
    token: String,
    /// A JSON array of batch ops to journal, in order.
    #[arg(long)]
    ops: Option<std::path::PathBuf>,
    /// Exit once nothing waits.
    #[arg(long)]
    until_drained: bool,
}

fn main() {
    let args = Args::parse();
    let out = &mut std::io::stdout();
    std::fs::create_dir_all(&args.dir).expect("dir");
    let journal = Arc::new(Mutex::new(
        Journal::open(args.dir.join("journal.jsonl")).expect("journal"),
    ));
    let net = Net::start(&args.server, "", journal.clone(), Arc::new(|| {})).expect("net");
    if let Some(path) = &args.ops {
        let ops: Vec<BatchOp> =
            serde_json::from_slice(&std::fs::read(path).expect("ops")).expect("ops json");
        for (i, op) in ops.into_iter().enumerate() {
            journal.lock().expect("lock").append(op).expect("append");
            let _ = writeln!(out, "journaled {}", i + 1);
            let _ = out.flush();
        }
    }
    net.set_token(Some(args.token.clone()));
    let (mut accepted, mut refused) = (0, 0);
    let mut drained = false;
    loop {
        for r in net.poll() {
            if let Reply::Synced(settled) = r {
                for s in settled {
                    match s.outcome {
                        Outcome::Accepted => accepted += 1,
                        Outcome::Refused { .. } => refused += 1,
                    }
                }
                let _ = writeln!(out, "settled {accepted} {refused}");
                let _ = out.flush();
            }
        }
        if drained {
            let _ = writeln!(out, "drained");
            let _ = out.flush();
            return;
        }
        // The journal records an answer before the screen hears of it: one more round
        // of replies once nothing waits.
        drained = args.until_drained && journal.lock().expect("lock").waiting() == 0;
        std::thread::sleep(Duration::from_millis(20));
    }
}
