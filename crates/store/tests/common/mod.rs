//! The PostgreSQL server the store's suites run on (`FIREDRILL_TEST_POSTGRES_URL`,
//! a role allowed to create databases; `.ci/run` starts Debian's postgresql
//! and sets it).

/// The PostgreSQL server to test on; in CI its absence fails the run.
pub fn postgres_base() -> Option<String> {
    match std::env::var("FIREDRILL_TEST_POSTGRES_URL") {
        Ok(base) => Some(base),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("FIREDRILL_TEST_POSTGRES_URL is not set: .ci/run starts PostgreSQL and sets it")
        }
        Err(_) => {
            eprintln!("skipping: FIREDRILL_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// A fresh database named `prefix` + now on the test server.
pub async fn fresh(base: &str, prefix: &str) -> (String, String) {
    let name = format!(
        "{prefix}{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let url = store::db::fresh_postgres(base, &name)
        .await
        .expect("connect to PostgreSQL");
    (name, url)
}
