//! Work each server process does on its own: every minute, releasing reservations
//! whose hold has run out and forgetting old failed logins; every day, anonymising the
//! beneficiaries kept long enough. Several processes sharing one PostgreSQL database
//! all run it; each hold is released, and each beneficiary anonymised, by one
//! conditional update (see [`crate::service::reservations::end`] and
//! [`crate::service::beneficiaries::anonymise`]), so never twice.

use crate::db::Db;
use crate::error::ApiResult;
use crate::schema::login_failures;
use crate::service::beneficiaries::{self, Retention};
use crate::service::reservations;
use diesel::prelude::*;
use filiere_shared::Lang;
use std::time::Duration;

/// How often each process sweeps.
pub const EVERY: Duration = Duration::from_secs(60);

/// Holds released in one sweep at most (the next sweep takes the rest).
const BATCH: i64 = 500;

/// How often each process anonymises.
pub const DAILY: Duration = Duration::from_secs(24 * 3600);

/// How often each process folds the dashboards' deltas into their counters.
pub const FOLD_EVERY: Duration = Duration::from_secs(5);

/// How often, at most, the dead rows the folds leave are cleared.
pub const VACUUM_EVERY: Duration = Duration::from_secs(60);

/// Starts the sweeps on the current actix runtime.
pub fn start(db: Db, retention: Retention) {
    let folding = db.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(FOLD_EVERY);
        let mut folded = 0;
        let mut last_vacuum = std::time::Instant::now();
        loop {
            tick.tick().await;
            match fold_all(&folding).await {
                Ok(n) => {
                    crate::metrics::metrics().swept("fold", n as u64);
                    folded += n
                }
                Err(e) => {
                    tracing::warn!(error = %e.code, "folding the dashboards' counters failed")
                }
            }
            if folded > 0 && last_vacuum.elapsed() >= VACUUM_EVERY {
                last_vacuum = std::time::Instant::now();
                folded = 0;
                if let Err(e) = vacuum(&folding).await {
                    tracing::warn!(error = %e.code, "vacuuming the dashboards' deltas failed");
                }
            }
        }
    });
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(EVERY);
        let mut last_daily: Option<std::time::Instant> = None;
        loop {
            tick.tick().await;
            if last_daily.is_none_or(|t| t.elapsed() >= DAILY) {
                last_daily = Some(std::time::Instant::now());
                let done = anonymise_due(&db, retention).await;
                if let Ok(n) = done {
                    crate::metrics::metrics().swept("anonymise", n as u64);
                }
                match done {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(anonymised = n, "beneficiaries anonymised"),
                    Err(e) => tracing::warn!(error = %e.code, "anonymisation sweep failed"),
                }
            }
            let released = expire_holds(&db).await;
            if let Ok(n) = released {
                crate::metrics::metrics().swept("expire_holds", n as u64);
            }
            match released {
                Ok(0) => {}
                Ok(n) => tracing::info!(released = n, "expired holds released"),
                Err(e) => tracing::warn!(error = %e.code, "hold sweep failed"),
            }
            let forgot = forget_old_failures(&db).await;
            if forgot.is_ok() {
                crate::metrics::metrics().swept("login_failures", 0);
            }
            if let Err(e) = forgot {
                tracing::warn!(error = %e.code, "login failure sweep failed");
            }
        }
    });
}

/// Clears the dead rows the folds leave ([`crate::aggregates::vacuum`]), on a
/// connection of its own outside any transaction.
pub async fn vacuum(db: &Db) -> ApiResult<()> {
    if db.backend != crate::db::Backend::Postgres {
        return Ok(());
    }
    let db = db.clone();
    actix_web::web::block(move || {
        let mut conn = db.read.get()?;
        crate::aggregates::vacuum(&mut conn)
    })
    .await?
}

/// Folds every pending delta of the dashboards into their counters, a batch per
/// write transaction. Any number of processes may fold at once: each delta is
/// deleted, then counted, by one of them.
pub async fn fold_all(db: &Db) -> ApiResult<usize> {
    let mut total = 0;
    loop {
        let n = db.write(crate::aggregates::fold).await?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// Releases every reservation whose hold has run out: the device goes back to
/// `ready`, its training seat to the waiting list. Returns how many this process
/// released (a hold another process released first is not counted).
pub async fn expire_holds(db: &Db) -> ApiResult<usize> {
    let due = {
        let db = db.clone();
        actix_web::web::block(move || {
            let mut conn = db.read.get()?;
            reservations::due(&mut conn, BATCH)
        })
        .await??
    };
    let mut released = 0;
    for id in due {
        let done = db
            .write(move |c| reservations::end(c, None, id, true, None, Lang::Fr))
            .await?;
        if done.is_some() {
            released += 1;
        }
    }
    Ok(released)
}

/// Failed logins older than a day count for nothing any more.
async fn forget_old_failures(db: &Db) -> ApiResult<()> {
    let before = crate::models::now() - chrono::Duration::days(1);
    db.write(move |c| {
        diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(before)))
            .execute(c)?;
        Ok(())
    })
    .await
}

/// Anonymises the beneficiaries whose retention has run out. Returns how many this
/// process anonymised (one another process did first is not counted). Logs ids only,
/// never an identity.
pub async fn anonymise_due(db: &Db, retention: Retention) -> ApiResult<usize> {
    let due = {
        let db = db.clone();
        actix_web::web::block(move || {
            let mut conn = db.read.get()?;
            beneficiaries::due_for_anonymisation(
                &mut conn,
                retention,
                crate::models::now(),
                BATCH as usize,
            )
        })
        .await??
    };
    let mut done = 0;
    for id in due {
        if db.write(move |c| beneficiaries::anonymise(c, id)).await? {
            tracing::info!(beneficiary = id, "beneficiary anonymised (retention ended)");
            done += 1;
        }
    }
    Ok(done)
}
