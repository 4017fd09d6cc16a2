//! Man page and completions are generated from clap and committed; this fails when they are
//! stale. Regenerate with `igctl man > man/igctl.1` and `igctl completions SHELL > completions/igctl.SHELL`.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::{igctl, igd_bin, workspace};

#[test]
fn man_page_and_completions_are_current() {
    let root = workspace();
    let mut cases = vec![(vec!["man".to_string()], root.join("man/igctl.1"))];
    for shell in ["bash", "zsh", "fish"] {
        cases.push((
            vec!["completions".to_string(), shell.to_string()],
            root.join(format!("completions/igctl.{shell}")),
        ));
    }
    let out = std::process::Command::new(igd_bin())
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        std::fs::read(root.join("man/igd.8")).unwrap_or_default() == out.stdout,
        "man/igd.8 is stale: regenerate it with `igd man > man/igd.8`"
    );
    for (args, path) in cases {
        let out = igctl(&args, &[]);
        assert!(out.status.success());
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "{} is stale: regenerate it with `igctl {}`",
            path.display(),
            args.join(" ")
        );
    }
}
