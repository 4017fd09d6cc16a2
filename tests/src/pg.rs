//! A PostgreSQL database of its own for one test, created on the server CI runs
//! (`INTENTGATE_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`) and
//! dropped, with its connections, when the guard is.

/// The server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("INTENTGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database; `url` connects to it.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    pub url: String,
    /// The server's admin URL the database was created from (and is dropped through).
    server: String,
}

impl TestDb {
    pub async fn create() -> TestDb {
        TestDb::create_on(&server_url()).await
    }

    /// A fresh database on the server at `server` (a URL to any of its databases).
    pub async fn create_on(server: &str) -> TestDb {
        let server = server.to_string();
        let name = format!("igtest_{}", intentgate_proto::ids::new_id());
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server} is required for this test: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("create the test database: {e}"));
        let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
        TestDb {
            url: format!("{base}/{name}"),
            name,
            server,
        }
    }

    /// [`TestDb::create`] from synchronous code.
    pub fn create_blocking() -> TestDb {
        block_on(TestDb::create)
    }

    /// [`TestDb::create_on`] from synchronous code.
    pub fn create_on_blocking(server: &str) -> TestDb {
        let server = server.to_string();
        block_on(move || async move { TestDb::create_on(&server).await })
    }

    /// Run SQL (one or more statements, no parameters) against the database.
    pub fn execute(&self, sql: &str) {
        let url = self.url.clone();
        let sql = sql.to_string();
        block_on(move || async move {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("connect {url}: {e}"));
            sqlx::raw_sql(&sql)
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        });
    }

    /// The first column of every row a query returns, as text.
    pub fn query(&self, sql: &str) -> Vec<String> {
        let url = self.url.clone();
        let sql = format!("SELECT q.x::text FROM ({sql}) AS q(x)");
        block_on(move || async move {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("connect {url}: {e}"));
            sqlx::query_scalar::<_, Option<String>>(&sql)
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect()
        })
    }
}

/// Run a future to completion on a runtime of its own, on a thread of its own (callable from
/// inside or outside another runtime).
fn block_on<T, F>(make: impl FnOnce() -> F + Send + 'static) -> T
where
    T: Send + 'static,
    F: std::future::Future<Output = T>,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(make()))
    })
    .join()
    .unwrap_or_else(|_| panic!("database helper panicked"))
    .unwrap_or_else(|e| panic!("runtime: {e}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let server = self.server.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut admin) =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&server).await
                {
                    let _ = sqlx::query(&sql).execute(&mut admin).await;
                }
            });
        })
        .join();
    }
}

/// A TCP relay in front of PostgreSQL that a test can cut (every open connection reset, new ones
/// closed at once) and restore: from igd's side, the database went away and came back, without
/// touching the server other tests share.
#[derive(Debug)]
pub struct CuttableProxy {
    pub port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CuttableProxy {
    /// Relay 127.0.0.1:<port> to `target` (host:port).
    pub fn start(target: &str) -> CuttableProxy {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::Arc;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("bind the proxy: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicU64::new(0));
        let target = target.to_string();
        let (up2, gen2) = (up.clone(), generation.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                // No Nagle delay on either hop: every relayed round trip would wait for it.
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let born = gen2.load(Ordering::SeqCst);
                for (from, to) in [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ] {
                    let (Ok(mut from), Ok(mut to)) = (from, to) else {
                        continue;
                    };
                    let gen3 = gen2.clone();
                    std::thread::spawn(move || {
                        use std::io::{Read, Write};
                        let _ = from.set_read_timeout(Some(std::time::Duration::from_millis(100)));
                        let mut buf = [0u8; 16384];
                        loop {
                            if gen3.load(Ordering::SeqCst) != born {
                                break;
                            }
                            match from.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        std::io::ErrorKind::WouldBlock
                                            | std::io::ErrorKind::TimedOut
                                    ) => {}
                                Err(_) => break,
                            }
                        }
                        let _ = from.shutdown(std::net::Shutdown::Both);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        CuttableProxy {
            port,
            up,
            generation,
        }
    }

    /// Reset every relayed connection and refuse new ones until [`CuttableProxy::restore`].
    pub fn cut(&self) {
        use std::sync::atomic::Ordering;
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// `url` (a database URL on 127.0.0.1:5432 or any host:port) rewritten to go through here.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme_user, rest) = url.split_once('@').unwrap_or(("postgres://", url));
        let path = rest.split_once('/').map(|(_, p)| p).unwrap_or("");
        format!("{scheme_user}@127.0.0.1:{}/{path}", self.port)
    }
}

/// host:port of the test server.
pub fn server_addr() -> String {
    let url = server_url();
    let rest = url.split_once('@').map(|(_, r)| r).unwrap_or(&url);
    rest.split('/')
        .next()
        .unwrap_or("127.0.0.1:5432")
        .to_string()
}

/// A PostgreSQL cluster of one test's own (initdb in a temp dir, its own port), so the test can
/// stop and start the server without touching the one other tests share. Run as root, the
/// server runs as the `postgres` user (runuser); otherwise as the current user.
#[derive(Debug)]
pub struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    pub port: u16,
}

impl PrivateCluster {
    pub fn start() -> PrivateCluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").exists())
            .max()
            .unwrap_or_else(|| panic!("no PostgreSQL server binaries under /usr/lib/postgresql"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let cluster = PrivateCluster {
            dir,
            bin,
            port: crate::free_port(),
        };
        if is_root() {
            let _ = std::process::Command::new("chown")
                .args(["postgres:", &cluster.dir.path().display().to_string()])
                .status();
        }
        let data = cluster.dir.path().join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.start_again();
        cluster
    }

    /// A URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stop the server (fast: every connection ends), waiting until it is down.
    pub fn stop(&self) {
        let data = self.dir.path().join("data").display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    /// Start the server, waiting until it accepts connections.
    pub fn start_again(&self) {
        let data = self.dir.path().join("data").display().to_string();
        let log = self.dir.path().join("log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
        );
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        let _ = cmd
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
