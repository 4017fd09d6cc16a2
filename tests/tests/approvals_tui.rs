//! The approvals TUI driven in tmux (an 80×24 pane, as over SSH): a real MCP client's escalated
//! calls show up live; one is approved with a TOTP code typed into the modal and the agent gets
//! upstream's answer; one is rejected with a note the agent sees; one times out and leaves the
//! queue.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

const POLICY: &str = r#"package intentgate.policy

default decision := {"allow": false, "reason": "not covered"}

decision := {"allow": false, "escalate": true, "requires_step_up": true, "reason": "money moves need a human"} if {
	input.tool == "echo"
}
"#;

/// A tmux server of its own, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let socket = format!("ig-tui-{}", std::process::id());
        let t = Tmux { socket };
        let ok = t
            .cmd(&[
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "80",
                "-y",
                "24",
                command,
            ])
            .status()
            .unwrap();
        assert!(ok.success(), "tmux new-session failed");
        t
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]).args(args);
        c
    }

    fn screen(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status().unwrap().success());
    }

    fn literal(&self, text: &str) {
        assert!(self
            .cmd(&["send-keys", "-t", "t", "-l", text])
            .status()
            .unwrap()
            .success());
    }

    /// Wait until the screen shows `needle` (and return it).
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {needle:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_without(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if !screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen kept showing {needle:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

fn call_in_background(
    igd: &Igd,
    token: &str,
    message: &str,
) -> std::thread::JoinHandle<Vec<Value>> {
    let url = format!("http://{}/v1/mcp", igd.addr);
    let token = token.to_string();
    let steps = json!([{"op": "call", "tool": "echo", "args": {"message": message}}]);
    std::thread::spawn(move || run_client(McpClient::Python, &url, &token, &steps, None))
}

#[test]
fn approve_reject_and_time_out_in_the_tui() {
    let upstream = Upstream::python();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.rego");
    std::fs::write(&policy, POLICY).unwrap();
    let igd = Igd::start(&[
        ("INTENTGATE_UPSTREAM_URL", &upstream.url),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
        ("INTENTGATE_APPROVAL_TIMEOUT", "25"),
    ]);
    igd.enroll_totp();
    let (token, _) = igd.mint("acme", "agent-21", "echo", 100);
    let config = igd.data_dir.with_file_name("igctl-config");
    let tui = Tmux::start(&format!(
        "env TERM=xterm-256color XDG_CONFIG_HOME={} {} --socket {} approvals",
        config.display(),
        igctl_bin().display(),
        igd.socket.display()
    ));

    // Approve with a TOTP code typed into the modal: the agent gets upstream's answer.
    let first = call_in_background(&igd, &token, "pay invoice 7");
    let screen = tui.wait_for("pay invoice 7");
    assert!(screen.contains("echo"), "{screen}");
    assert!(screen.contains("agent-21"), "{screen}");
    assert!(screen.contains("money moves need a human"), "{screen}");
    assert!(screen.to_uppercase().contains("STEP-UP"), "{screen}");
    for line in screen.lines() {
        assert!(line.chars().count() <= 80, "wider than the pane: {line}");
    }
    tui.keys(&["a"]);
    tui.wait_for("TOTP");
    tui.literal(&igd.totp_code());
    tui.keys(&["Enter"]);
    let out = first.join().unwrap();
    assert_eq!(out[0]["ok"], true, "{out:?}\n{}", tui.screen());
    assert_eq!(out[0]["result"]["text"][0], "echo: pay invoice 7");
    tui.wait_without("pay invoice 7");

    // Reject with a note: the agent sees it.
    let second = call_in_background(&igd, &token, "pay invoice 8");
    tui.wait_for("pay invoice 8");
    tui.keys(&["r"]);
    tui.wait_for("ote");
    tui.literal("wrong account");
    tui.keys(&["Enter"]);
    let out = second.join().unwrap();
    assert_eq!(out[0]["code"], -31004, "{out:?}\n{}", tui.screen());
    assert!(out[0]["message"]
        .as_str()
        .unwrap()
        .contains("wrong account"));
    tui.wait_without("pay invoice 8");

    // Nobody decides: it times out, the agent is told, the row leaves the queue.
    let third = call_in_background(&igd, &token, "pay invoice 9");
    tui.wait_for("pay invoice 9");
    let out = third.join().unwrap();
    assert!(
        out[0]["message"]
            .as_str()
            .unwrap()
            .contains("escalation timed out"),
        "{out:?}"
    );
    tui.wait_without("pay invoice 9");
    assert_eq!(upstream.calls().iter().filter(|c| *c == "echo").count(), 1);

    // The daemon restarts: the TUI reconnects and shows new escalations again.
    let mut igd = igd;
    igd.kill_and_restart();
    let fourth = call_in_background(&igd, &token, "pay invoice 10");
    tui.wait_for("pay invoice 10");
    tui.keys(&["r"]);
    tui.wait_for("ote");
    tui.keys(&["Enter"]);
    assert_eq!(fourth.join().unwrap()[0]["code"], -31004);
    tui.keys(&["q"]);
}
