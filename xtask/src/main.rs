//! `cargo xtask` entry point.

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask codegen [--check]

  codegen          regenerate crates/model/src/generated/*.rs from vendor/models
  codegen --check  fail if the committed generated files differ from the models";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn codegen(check: bool) -> ExitCode {
    let root = xtask::codegen::workspace_root();
    let result = if check {
        xtask::codegen::check_all(&root)
    } else {
        xtask::codegen::write_all(&root)
    };
    match result {
        Ok(paths) if check && !paths.is_empty() => {
            for p in &paths {
                eprintln!("out of date: {}", p.display());
            }
            eprintln!("run `cargo xtask codegen` and commit the result");
            ExitCode::FAILURE
        }
        Ok(paths) => {
            for p in &paths {
                println!("wrote {}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
