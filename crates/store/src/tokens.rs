//! Named tokens with roles, stored as SHA-256 hashes (the secret is shown
//! once, at creation). The data dir's own token is the instructor's and is
//! not stored here: it lives in the data dir's `token` file.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::Row;
use wire::access::{TokenResolver, constant_time_eq, token_hash};
use wire::lab::TokenInfo;
use wire::sink::BoxFuture;
use wire::{Principal, Role};

use crate::StoreError;
use crate::db::Db;

/// The token table, with the data dir's instructor token beside it.
#[derive(Clone)]
pub struct Tokens {
    db: Db,
    owner: Arc<str>,
}

/// Longest token name.
pub const MAX_NAME: usize = 64;

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok && name != "instructor" && name != "anonymous" {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "token name {name:?} must be 1 to {MAX_NAME} letters, digits, '-', '_' or '.', and not `instructor` or `anonymous`"
        )))
    }
}

fn random_secret() -> Result<String, StoreError> {
    let mut bytes = [0u8; 24];
    let mut f = std::fs::File::open("/dev/urandom")
        .map_err(|e| StoreError::Invalid(format!("reading /dev/urandom: {e}")))?;
    std::io::Read::read_exact(&mut f, &mut bytes)
        .map_err(|e| StoreError::Invalid(format!("reading /dev/urandom: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Tokens {
    /// `owner` is the data dir's token: it always resolves to the instructor.
    pub fn new(db: Db, owner: &str) -> Tokens {
        Tokens {
            db,
            owner: Arc::from(owner),
        }
    }

    /// Creates a token; returns its secret (shown once, stored hashed).
    pub async fn create(&self, name: &str, role: Role) -> Result<String, StoreError> {
        check_name(name)?;
        let secret = format!("fd_{}_{}", role.as_str(), random_secret()?);
        let r = sqlx::query(
            "INSERT INTO tokens (name, role, hash, created_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(token_hash(&secret))
        .bind(Utc::now().timestamp_millis())
        .execute(&self.db.pool)
        .await;
        match r {
            Ok(_) => Ok(secret),
            Err(sqlx::Error::Database(e)) if e.message().to_lowercase().contains("unique") => {
                Err(StoreError::Invalid(format!(
                    "a token named {name:?} exists: revoke it first (`firedrill token revoke {name}`)"
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn list(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query("SELECT name, role, created_ms, revoked_ms FROM tokens ORDER BY id")
            .fetch_all(&self.db.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let role: String = r.try_get(1)?;
            let created: i64 = r.try_get(2)?;
            let revoked: Option<i64> = r.try_get(3)?;
            out.push(TokenInfo {
                name: r.try_get(0)?,
                role: role.parse().unwrap_or(Role::Viewer),
                created: DateTime::from_timestamp_millis(created).unwrap_or_default(),
                revoked: revoked.and_then(DateTime::from_timestamp_millis),
            });
        }
        Ok(out)
    }

    /// Revokes the active token named `name`; false when there is none.
    pub async fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let r =
            sqlx::query("UPDATE tokens SET revoked_ms = $1 WHERE name = $2 AND revoked_ms IS NULL")
                .bind(Utc::now().timestamp_millis())
                .bind(name)
                .execute(&self.db.pool)
                .await?;
        Ok(r.rows_affected() > 0)
    }

    /// The holder of `token`, if it is the owner's or an active named one.
    pub async fn principal(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        if !self.owner.is_empty() && constant_time_eq(token, &self.owner) {
            return Ok(Some(Principal::lab_owner()));
        }
        let row =
            sqlx::query("SELECT name, role FROM tokens WHERE hash = $1 AND revoked_ms IS NULL")
                .bind(token_hash(token))
                .fetch_optional(&self.db.pool)
                .await?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.try_get(1)?;
        Ok(Some(Principal {
            name: r.try_get(0)?,
            role: role.parse().unwrap_or(Role::Viewer),
        }))
    }
}

impl TokenResolver for Tokens {
    fn resolve<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<Principal>, String>> {
        Box::pin(async move { self.principal(token).await.map_err(|e| e.to_string()) })
    }
}
