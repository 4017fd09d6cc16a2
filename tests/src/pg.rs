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
}

impl TestDb {
    pub async fn create() -> TestDb {
        let server = server_url();
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
        }
    }

    /// [`TestDb::create`] from synchronous code.
    pub fn create_blocking() -> TestDb {
        block_on(TestDb::create)
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
        let server = server_url();
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
