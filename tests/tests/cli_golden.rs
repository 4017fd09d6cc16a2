//! CLI golden tests: each folder under `tests/golden/` holds `args` (one argument per line) and
//! the expected `stdout`, `stderr` and exit `code` of igctl. `GOLDEN_UPDATE=1` rewrites them.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::{igctl, workspace};

#[test]
fn golden_cases() {
    let root = workspace().join("tests/golden");
    let update = std::env::var_os("GOLDEN_UPDATE").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "golden cases missing");
    let mut failures = Vec::new();
    for case in cases {
        let args: Vec<String> = std::fs::read_to_string(case.join("args"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        let out = igctl(&args, &[("NO_COLOR", "1")]);
        let got = [
            ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
            ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
            ("code", format!("{}\n", out.status.code().unwrap_or(-1))),
        ];
        for (name, text) in got {
            let path = case.join(name);
            if update {
                std::fs::write(&path, &text).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if want != text {
                failures.push(format!(
                    "{}/{name}:\n--- want\n{want}--- got\n{text}",
                    case.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
