//! The dashboards' counters (storage: what is counted and how it is kept, not who
//! reads it): items by site, category, state, grade and key spec;
//! collections' items and weights by state; flows by site and week and by site,
//! month and category; days from reception to ready; items waiting for something by
//! state, site and what they wait for, by the day and the month they came into their
//! state.
//!
//! The database's triggers (migration `2026-11-30-000001_dashboards`) append a signed
//! delta for every item or event written, in the writer's own transaction; [`fold`]
//! moves the deltas into the counters now and then (every few seconds, and by any
//! number of server processes at once: each delta is deleted, then counted, by one
//! of them only). A reading adds the counters and the deltas not yet folded, in one
//! snapshot ([`snapshot`]): the figures are exact at every moment. [`recount`] works
//! every figure out again from the items and their events; [`rebuild`] puts it in
//! place when the counters are new (a database from before them).

use crate::db::{DbConnection, Kept};
use crate::error::{ApiError, ApiResult};
use crate::on_backend;
use crate::schema::{
    aging_days, aging_months, collection_counts, counter_folds, flow_deltas, flow_months,
    flow_weeks, item_deltas, item_events, items, ready_times, sales, sites, stock_counts,
};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::upsert::excluded;
use filiere_shared::lifecycle::EventPayload;
use filiere_shared::{EventType, Flow, ItemState, WaitingFor};
use std::collections::BTreeMap;
use std::str::FromStr;

/// Weeks and months are those of Paris.
const TZ: chrono_tz::Tz = chrono_tz::Europe::Paris;

/// Deltas folded in one transaction at most.
const BATCH: i64 = 50_000;

/// The Monday of the week `at` (UTC) falls in, in Paris.
pub fn week_of(at: NaiveDateTime) -> NaiveDate {
    let d = at.and_utc().with_timezone(&TZ).date_naive();
    d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// The first day of the month `at` (UTC) falls in, in Paris.
pub fn month_of(at: NaiveDateTime) -> NaiveDate {
    let d = at.and_utc().with_timezone(&TZ).date_naive();
    d.with_day(1).unwrap_or(d)
}

/// Whole days from reception to ready (never below 0).
fn days_between(from: NaiveDateTime, to: NaiveDateTime) -> i64 {
    (to - from).num_days().max(0)
}

pub type StockKey = (i64, String, String, String, String);
pub type CollectionKey = (i64, String, String);
pub type WeekKey = (i64, NaiveDate, String);
pub type MonthKey = (i64, NaiveDate, String, String);
/// Site, month of the ready step, whole days from reception.
pub type ReadyKey = (i64, NaiveDate, i64);
/// State, day (or month's first day, UTC) the item came into it, site, what it
/// waits for.
pub type AgingKey = (String, NaiveDate, i64, String);

/// Items and their weights: how many, how many weighed and their grams, how many
/// with a technician's estimate and its grams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Weights {
    pub n: i64,
    pub weighed_n: i64,
    pub weighed_g: i64,
    pub estimated_n: i64,
    pub estimated_g: i64,
}

impl Weights {
    fn of(n: i64, weight_g: Option<i64>, estimated: bool) -> Weights {
        let (weighed, guessed) = match weight_g {
            Some(g) if estimated => (None, Some(g)),
            Some(g) => (Some(g), None),
            None => (None, None),
        };
        Weights {
            n,
            weighed_n: if weighed.is_some() { n } else { 0 },
            weighed_g: weighed.map_or(0, |g| g * n),
            estimated_n: if guessed.is_some() { n } else { 0 },
            estimated_g: guessed.map_or(0, |g| g * n),
        }
    }

    pub fn add(&mut self, o: Weights) {
        self.n += o.n;
        self.weighed_n += o.weighed_n;
        self.weighed_g += o.weighed_g;
        self.estimated_n += o.estimated_n;
        self.estimated_g += o.estimated_g;
    }

    fn is_zero(&self) -> bool {
        *self == Weights::default()
    }

    /// Not weighed and not estimated by a technician.
    pub fn unweighed(&self) -> i64 {
        self.n - self.weighed_n - self.estimated_n
    }
}

/// Every figure the dashboards are made of (zeros left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tallies {
    pub stock: BTreeMap<StockKey, i64>,
    pub collections: BTreeMap<CollectionKey, Weights>,
    pub weeks: BTreeMap<WeekKey, i64>,
    pub months: BTreeMap<MonthKey, Weights>,
    pub ready: BTreeMap<ReadyKey, i64>,
    pub aging_days: BTreeMap<AgingKey, i64>,
    pub aging_months: BTreeMap<AgingKey, i64>,
}

fn bump<K: Ord>(map: &mut BTreeMap<K, i64>, k: K, n: i64) {
    let v = map.entry(k).or_insert(0);
    *v += n;
}

fn bump_w<K: Ord>(map: &mut BTreeMap<K, Weights>, k: K, w: Weights) {
    map.entry(k).or_default().add(w);
}

impl Tallies {
    fn item(&mut self, d: &ItemDelta) {
        bump(
            &mut self.stock,
            (
                d.site_id,
                d.category.clone(),
                d.state.clone(),
                d.grade.clone(),
                d.spec_key.clone(),
            ),
            i64::from(d.n),
        );
        if let Some(c) = d.collection_id {
            bump_w(
                &mut self.collections,
                (c, d.category.clone(), d.state.clone()),
                Weights::of(i64::from(d.n), d.weight_g, d.weight_estimated),
            );
        }
        if let Some(since) = d.state_since
            && !d.blocker.is_empty()
        {
            let day = since.date();
            let key = (d.state.clone(), day, d.site_id, d.blocker.clone());
            bump(&mut self.aging_days, key.clone(), i64::from(d.n));
            let month = day.with_day(1).unwrap_or(day);
            bump(
                &mut self.aging_months,
                (key.0, month, key.2, key.3),
                i64::from(d.n),
            );
        }
    }

    fn flow(&mut self, d: &FlowDelta) -> ApiResult<()> {
        let flow = Flow::from_str(&d.flow).map_err(ApiError::internal)?;
        let (week, month) = (week_of(d.occurred_at), month_of(d.occurred_at));
        let n = i64::from(d.n);
        for f in flow.counts_as() {
            bump(&mut self.weeks, (d.site_id, week, f.as_str().to_owned()), n);
            bump_w(
                &mut self.months,
                (d.site_id, month, f.as_str().to_owned(), d.category.clone()),
                Weights::of(n, d.weight_g, d.weight_estimated),
            );
        }
        if flow == Flow::Ready
            && let Some(r) = d.received_at
        {
            bump(
                &mut self.ready,
                (d.site_id, month, days_between(r, d.occurred_at)),
                n,
            );
        }
        Ok(())
    }

    /// How many figures: the size of a reading kept in memory.
    fn figures(&self) -> usize {
        self.stock.len()
            + self.collections.len()
            + self.weeks.len()
            + self.months.len()
            + self.ready.len()
            + self.aging_days.len()
            + self.aging_months.len()
    }

    fn without_zeros(mut self) -> Tallies {
        self.stock.retain(|_, v| *v != 0);
        self.collections.retain(|_, v| !v.is_zero());
        self.weeks.retain(|_, v| *v != 0);
        self.months.retain(|_, v| !v.is_zero());
        self.ready.retain(|_, v| *v != 0);
        self.aging_days.retain(|_, v| *v != 0);
        self.aging_months.retain(|_, v| *v != 0);
        self
    }
}

#[derive(Debug, Clone, Queryable)]
pub struct ItemDelta {
    pub site_id: i64,
    pub collection_id: Option<i64>,
    pub category: String,
    pub state: String,
    pub grade: String,
    pub spec_key: String,
    pub weight_g: Option<i64>,
    pub weight_estimated: bool,
    pub blocker: String,
    pub state_since: Option<NaiveDateTime>,
    pub n: i32,
}

#[derive(Debug, Clone, Queryable)]
pub struct FlowDelta {
    pub site_id: i64,
    pub occurred_at: NaiveDateTime,
    pub flow: String,
    pub category: String,
    pub weight_g: Option<i64>,
    pub weight_estimated: bool,
    pub received_at: Option<NaiveDateTime>,
    pub n: i32,
}

macro_rules! item_delta_columns {
    () => {
        (
            item_deltas::site_id,
            item_deltas::collection_id,
            item_deltas::category,
            item_deltas::state,
            item_deltas::grade,
            item_deltas::spec_key,
            item_deltas::weight_g,
            item_deltas::weight_estimated,
            item_deltas::blocker,
            item_deltas::state_since,
            item_deltas::n,
        )
    };
}

macro_rules! flow_delta_columns {
    () => {
        (
            flow_deltas::site_id,
            flow_deltas::occurred_at,
            flow_deltas::flow,
            flow_deltas::category,
            flow_deltas::weight_g,
            flow_deltas::weight_estimated,
            flow_deltas::received_at,
            flow_deltas::n,
        )
    };
}

/// Runs `f` in one read transaction that sees one state of the database: the
/// counters and the deltas not yet folded, together (on PostgreSQL, repeatable read).
pub fn snapshot<T, F>(conn: &mut DbConnection, f: F) -> ApiResult<T>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<T>,
{
    conn.transaction(|c| {
        if let DbConnection::Pg(pg) = c {
            // A reading is many small index reads, some in one union: PostgreSQL would
            // hand such a union to parallel workers, whose start costs more than the
            // reading and whose cores the other requests need.
            pg.batch_execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
                 SET LOCAL max_parallel_workers_per_gather = 0",
            )?;
        }
        f(c)
    })
}

/// Moves up to [`BATCH`] deltas of each kind into the counters; the deltas moved.
/// Runs in the caller's write transaction.
pub fn fold(conn: &mut DbConnection) -> ApiResult<usize> {
    let mut moved = 0;
    let first: Option<i64> = item_deltas::table
        .select(diesel::dsl::min(item_deltas::id))
        .first(conn)?;
    let mut t = Tallies::default();
    if let Some(first) = first {
        let rows: Vec<ItemDelta> = on_backend!(conn, c => diesel::delete(
            item_deltas::table.filter(item_deltas::id.lt(first + BATCH))
        )
        .returning(item_delta_columns!())
        .load(c))?;
        moved += rows.len();
        for d in &rows {
            t.item(d);
        }
    }
    let first: Option<i64> = flow_deltas::table
        .select(diesel::dsl::min(flow_deltas::id))
        .first(conn)?;
    if let Some(first) = first {
        let rows: Vec<FlowDelta> = on_backend!(conn, c => diesel::delete(
            flow_deltas::table.filter(flow_deltas::id.lt(first + BATCH))
        )
        .returning(flow_delta_columns!())
        .load(c))?;
        moved += rows.len();
        for d in &rows {
            t.flow(d)?;
        }
    }
    if moved > 0 {
        add(conn, &t.without_zeros())?;
    }
    Ok(moved)
}

/// The tables a fold deletes from or updates: on PostgreSQL, their dead rows are
/// cleared and the empty end of the delta tables given back, so that a reading of the
/// pending deltas stays a read of a few pages whether or not autovacuum runs (a burst
/// of writes leaves them hundreds of megabytes of dead rows). Outside any
/// transaction; nothing to do on SQLite, whose deleted pages are reused as they are.
pub fn vacuum(conn: &mut DbConnection) -> ApiResult<()> {
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query(
            "VACUUM item_deltas, flow_deltas, stock_counts, collection_counts, flow_weeks, \
             flow_months, ready_times, aging_days, aging_months",
        )
        .execute(c)?;
    }
    Ok(())
}

/// Adds tallies to the stored counters, then drops the counters left at zero; one
/// more generation of the counters (the readings kept in memory no longer hold).
fn add(conn: &mut DbConnection, t: &Tallies) -> ApiResult<()> {
    diesel::update(counter_folds::table)
        .set(counter_folds::generation.eq(counter_folds::generation + 1))
        .execute(conn)?;
    for ((site, category, state, grade, spec), n) in &t.stock {
        on_backend!(conn, c => diesel::insert_into(stock_counts::table)
            .values((
                stock_counts::site_id.eq(site),
                stock_counts::category.eq(category),
                stock_counts::state.eq(state),
                stock_counts::grade.eq(grade),
                stock_counts::spec_key.eq(spec),
                stock_counts::n.eq(n),
            ))
            .on_conflict((
                stock_counts::site_id,
                stock_counts::category,
                stock_counts::state,
                stock_counts::grade,
                stock_counts::spec_key,
            ))
            .do_update()
            .set(stock_counts::n.eq(stock_counts::n + excluded(stock_counts::n)))
            .execute(c))?;
    }
    for ((collection, category, state), w) in &t.collections {
        on_backend!(conn, c => diesel::insert_into(collection_counts::table)
            .values((
                collection_counts::collection_id.eq(collection),
                collection_counts::category.eq(category),
                collection_counts::state.eq(state),
                collection_counts::n.eq(w.n),
                collection_counts::weighed_n.eq(w.weighed_n),
                collection_counts::weighed_g.eq(w.weighed_g),
                collection_counts::estimated_n.eq(w.estimated_n),
                collection_counts::estimated_g.eq(w.estimated_g),
            ))
            .on_conflict((
                collection_counts::collection_id,
                collection_counts::category,
                collection_counts::state,
            ))
            .do_update()
            .set((
                collection_counts::n.eq(collection_counts::n + excluded(collection_counts::n)),
                collection_counts::weighed_n
                    .eq(collection_counts::weighed_n + excluded(collection_counts::weighed_n)),
                collection_counts::weighed_g
                    .eq(collection_counts::weighed_g + excluded(collection_counts::weighed_g)),
                collection_counts::estimated_n
                    .eq(collection_counts::estimated_n + excluded(collection_counts::estimated_n)),
                collection_counts::estimated_g
                    .eq(collection_counts::estimated_g + excluded(collection_counts::estimated_g)),
            ))
            .execute(c))?;
    }
    for ((site, week, flow), n) in &t.weeks {
        on_backend!(conn, c => diesel::insert_into(flow_weeks::table)
            .values((
                flow_weeks::site_id.eq(site),
                flow_weeks::week.eq(week),
                flow_weeks::flow.eq(flow),
                flow_weeks::n.eq(n),
            ))
            .on_conflict((flow_weeks::site_id, flow_weeks::week, flow_weeks::flow))
            .do_update()
            .set(flow_weeks::n.eq(flow_weeks::n + excluded(flow_weeks::n)))
            .execute(c))?;
    }
    for ((site, month, flow, category), w) in &t.months {
        on_backend!(conn, c => diesel::insert_into(flow_months::table)
            .values((
                flow_months::site_id.eq(site),
                flow_months::month.eq(month),
                flow_months::flow.eq(flow),
                flow_months::category.eq(category),
                flow_months::n.eq(w.n),
                flow_months::weighed_n.eq(w.weighed_n),
                flow_months::weighed_g.eq(w.weighed_g),
                flow_months::estimated_n.eq(w.estimated_n),
                flow_months::estimated_g.eq(w.estimated_g),
            ))
            .on_conflict((
                flow_months::site_id,
                flow_months::month,
                flow_months::flow,
                flow_months::category,
            ))
            .do_update()
            .set((
                flow_months::n.eq(flow_months::n + excluded(flow_months::n)),
                flow_months::weighed_n.eq(flow_months::weighed_n + excluded(flow_months::weighed_n)),
                flow_months::weighed_g.eq(flow_months::weighed_g + excluded(flow_months::weighed_g)),
                flow_months::estimated_n
                    .eq(flow_months::estimated_n + excluded(flow_months::estimated_n)),
                flow_months::estimated_g
                    .eq(flow_months::estimated_g + excluded(flow_months::estimated_g)),
            ))
            .execute(c))?;
    }
    for ((site, month, days), n) in &t.ready {
        let days = i32::try_from(*days).map_err(ApiError::internal)?;
        on_backend!(conn, c => diesel::insert_into(ready_times::table)
            .values((
                ready_times::site_id.eq(site),
                ready_times::month.eq(month),
                ready_times::days.eq(days),
                ready_times::n.eq(n),
            ))
            .on_conflict((ready_times::site_id, ready_times::month, ready_times::days))
            .do_update()
            .set(ready_times::n.eq(ready_times::n + excluded(ready_times::n)))
            .execute(c))?;
    }
    diesel::delete(stock_counts::table.filter(stock_counts::n.eq(0))).execute(conn)?;
    diesel::delete(collection_counts::table.filter(collection_counts::n.eq(0))).execute(conn)?;
    diesel::delete(flow_weeks::table.filter(flow_weeks::n.eq(0))).execute(conn)?;
    diesel::delete(flow_months::table.filter(flow_months::n.eq(0))).execute(conn)?;
    for (table, counts) in [
        (Aging::Days, &t.aging_days),
        (Aging::Months, &t.aging_months),
    ] {
        for ((state, date, site, blocker), n) in counts {
            match table {
                Aging::Days => on_backend!(conn, c => diesel::insert_into(aging_days::table)
                    .values((
                        aging_days::state.eq(state),
                        aging_days::day.eq(date),
                        aging_days::site_id.eq(site),
                        aging_days::blocker.eq(blocker),
                        aging_days::n.eq(n),
                    ))
                    .on_conflict((
                        aging_days::state,
                        aging_days::day,
                        aging_days::site_id,
                        aging_days::blocker,
                    ))
                    .do_update()
                    .set(aging_days::n.eq(aging_days::n + excluded(aging_days::n)))
                    .execute(c))?,
                Aging::Months => on_backend!(conn, c => diesel::insert_into(aging_months::table)
                    .values((
                        aging_months::state.eq(state),
                        aging_months::month.eq(date),
                        aging_months::site_id.eq(site),
                        aging_months::blocker.eq(blocker),
                        aging_months::n.eq(n),
                    ))
                    .on_conflict((
                        aging_months::state,
                        aging_months::month,
                        aging_months::site_id,
                        aging_months::blocker,
                    ))
                    .do_update()
                    .set(aging_months::n.eq(aging_months::n + excluded(aging_months::n)))
                    .execute(c))?,
            };
        }
    }
    diesel::delete(ready_times::table.filter(ready_times::n.eq(0))).execute(conn)?;
    diesel::delete(aging_days::table.filter(aging_days::n.eq(0))).execute(conn)?;
    diesel::delete(aging_months::table.filter(aging_months::n.eq(0))).execute(conn)?;
    Ok(())
}

#[derive(Clone, Copy)]
enum Aging {
    Days,
    Months,
}

/// The sites a reading covers: all of them, or these.
#[derive(Debug, Clone)]
pub enum Sites {
    All,
    Only(Vec<i64>),
}

impl Sites {
    fn has(&self, site: i64) -> bool {
        match self {
            Sites::All => true,
            Sites::Only(s) => s.contains(&site),
        }
    }

    fn only(&self) -> Option<&Vec<i64>> {
        match self {
            Sites::All => None,
            Sites::Only(s) => Some(s),
        }
    }
}

/// What a reading takes: each dashboard reads only the counters it shows.
#[derive(Debug, Clone, Default)]
pub struct Want {
    pub stock: bool,
    /// Weeks from this Monday on.
    pub weeks: Option<NaiveDate>,
    /// Months from this first day on.
    pub months: Option<NaiveDate>,
    /// Days from reception to ready, months from this first day on.
    pub ready: Option<NaiveDate>,
    /// These collections (`Some(vec![])`: none; `None`: every one).
    pub collections: Option<Vec<i64>>,
    /// Whose weeks and months are told apart: each site's (the default), each
    /// region's, or nobody's; the database adds up the rest.
    pub by: By,
    /// Only these flows in the months (`None`: every one).
    pub flows: Option<&'static [Flow]>,
    /// Days from reception to ready added up over the months (the key's month is then
    /// the first one asked for).
    pub ready_whole: bool,
    /// Every aging counter (the comparison with a recount; the dashboard reads them
    /// with [`waiting`]).
    pub aging: bool,
}

/// Whom a reading's flows are counted for: the first field of their key is a site's
/// id, a region's, or 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum By {
    #[default]
    Site,
    Region,
    Total,
}

#[derive(QueryableByName)]
struct WeekRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    who: i64,
    #[diesel(sql_type = diesel::sql_types::Date)]
    week: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Text)]
    flow: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct MonthRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    who: i64,
    #[diesel(sql_type = diesel::sql_types::Date)]
    month: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Text)]
    flow: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    category: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    weighed_n: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    weighed_g: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    estimated_n: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    estimated_g: i64,
}

#[derive(QueryableByName)]
struct ReadyRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    site_id: i64,
    #[diesel(sql_type = diesel::sql_types::Date)]
    month: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    days: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `AND c.site_id IN (…)` for the sites read, if not all.
fn sites_sql(sites: &Sites) -> String {
    sites_of("c", sites)
}

/// `AND {table}.site_id IN (…)` for the sites read, if not all.
fn sites_of(table: &str, sites: &Sites) -> String {
    match sites.only() {
        None => String::new(),
        Some(ids) if ids.is_empty() => " AND 1 = 0".to_owned(),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!(" AND {table}.site_id IN ({})", list.join(", "))
        }
    }
}

/// The sites read and, if one is asked for, what is waited for, on `table`'s rows.
fn sites_reason_of(table: &str, sites: &Sites, blocker: Option<WaitingFor>) -> String {
    let mut filter = sites_of(table, sites);
    if let Some(b) = blocker {
        filter.push_str(&format!(" AND {table}.blocker = '{}'", b.as_str()));
    }
    filter
}

/// The SQL that sums a flow counter `table` (aliased `c`) from `since` on, grouped
/// first by whom it counts for (`who`). Every value written into it is the server's
/// own (ids, dates, flow names).
struct FlowSql<'a> {
    table: &'a str,
    date: &'a str,
    columns: &'a str,
    sums: &'a str,
}

impl FlowSql<'_> {
    fn sql(&self, since: NaiveDate, sites: &Sites, by: By, flows: Option<&[Flow]>) -> String {
        let (who, join) = match by {
            By::Site => ("c.site_id", ""),
            By::Region => ("s.region_id", " JOIN sites s ON s.id = c.site_id"),
            By::Total => ("CAST(0 AS BIGINT)", ""),
        };
        let FlowSql {
            table,
            date,
            columns,
            sums,
        } = self;
        let mut sql = format!(
            "SELECT {who} AS who, c.{date} AS {date}{columns}, {sums} FROM {table} c{join} \
             WHERE c.{date} >= '{}'{}",
            since.format("%Y-%m-%d"),
            sites_sql(sites)
        );
        if let Some(flows) = flows {
            let list: Vec<String> = flows.iter().map(|f| format!("'{}'", f.as_str())).collect();
            sql.push_str(&format!(" AND c.flow IN ({})", list.join(", ")));
        }
        // A constant left out of the grouping: the rows then come grouped in the
        // key's own order, without a sort.
        let group = match by {
            By::Total => format!("c.{date}{columns}"),
            By::Site | By::Region => format!("{who}, c.{date}{columns}"),
        };
        sql.push_str(&format!(" GROUP BY {group}"));
        sql
    }
}

/// The key's first field for a site under `by`.
fn who(by: By, site: i64, regions: &BTreeMap<i64, i64>) -> i64 {
    match by {
        By::Site => site,
        By::Region => regions.get(&site).copied().unwrap_or(0),
        By::Total => 0,
    }
}

impl Want {
    /// Everything from `since` on (the recount's comparison).
    pub fn all(since: NaiveDate) -> Want {
        Want {
            stock: true,
            weeks: Some(since),
            months: Some(since),
            ready: Some(since),
            collections: None,
            aging: true,
            ..Want::default()
        }
    }
}

/// The stored counters and the deltas not yet folded, for some sites: what the
/// dashboards read (in a [`snapshot`]), as much as `want` asks.
pub fn read(conn: &mut DbConnection, sites: &Sites, want: &Want) -> ApiResult<Tallies> {
    let mut t = counters(conn, sites, want)?;
    pending(conn, sites, want, &mut t)?;
    Ok(t.without_zeros())
}

/// The counters as `want` asks, from this process's memory when it read them at the
/// same generation ([`memo`]), else from the tables.
fn counters(conn: &mut DbConnection, sites: &Sites, want: &Want) -> ApiResult<Tallies> {
    let key = format!("{sites:?} {want:?}");
    memo::kept(conn, key, Tallies::figures, |c| stored(c, sites, want))
}

/// The counters' tables as `want` asks.
fn stored(conn: &mut DbConnection, sites: &Sites, want: &Want) -> ApiResult<Tallies> {
    let mut t = Tallies::default();
    let only = sites.only();
    if want.stock {
        let rows: Vec<(i64, String, String, String, String, i64)> = match only {
            Some(s) => stock_counts::table
                .filter(stock_counts::site_id.eq_any(s))
                .load(conn)?,
            None => stock_counts::table.load(conn)?,
        };
        for (site, category, state, grade, spec, n) in rows {
            bump(&mut t.stock, (site, category, state, grade, spec), n);
        }
    }
    if let Some(since) = want.weeks {
        let sql = FlowSql {
            table: "flow_weeks",
            date: "week",
            columns: ", c.flow",
            sums: "CAST(SUM(c.n) AS BIGINT) AS n",
        }
        .sql(since, sites, want.by, None);
        let rows: Vec<WeekRow> = on_backend!(conn, c => diesel::sql_query(sql).load(c))?;
        for r in rows {
            bump(&mut t.weeks, (r.who, r.week, r.flow), r.n);
        }
    }
    if let Some(since) = want.months {
        let sql = FlowSql {
            table: "flow_months",
            date: "month",
            columns: ", c.flow, c.category",
            sums: "CAST(SUM(c.n) AS BIGINT) AS n, CAST(SUM(c.weighed_n) AS BIGINT) AS weighed_n, \
                   CAST(SUM(c.weighed_g) AS BIGINT) AS weighed_g, \
                   CAST(SUM(c.estimated_n) AS BIGINT) AS estimated_n, \
                   CAST(SUM(c.estimated_g) AS BIGINT) AS estimated_g",
        }
        .sql(since, sites, want.by, want.flows);
        let rows: Vec<MonthRow> = on_backend!(conn, c => diesel::sql_query(sql).load(c))?;
        for r in rows {
            let w = Weights {
                n: r.n,
                weighed_n: r.weighed_n,
                weighed_g: r.weighed_g,
                estimated_n: r.estimated_n,
                estimated_g: r.estimated_g,
            };
            bump_w(&mut t.months, (r.who, r.month, r.flow, r.category), w);
        }
    }
    if let Some(since) = want.ready {
        let day = since.format("%Y-%m-%d");
        // Added up over the months: keyed by the first month asked for.
        let (month, group) = if want.ready_whole {
            ("MIN(c.month)", "c.site_id, c.days")
        } else {
            ("c.month", "c.site_id, c.month, c.days")
        };
        let sql = format!(
            "SELECT c.site_id AS site_id, {month} AS month, c.days AS days, \
             CAST(SUM(c.n) AS BIGINT) AS n FROM ready_times c WHERE c.month >= '{day}'{} \
             GROUP BY {group}",
            sites_sql(sites)
        );
        let rows: Vec<ReadyRow> = on_backend!(conn, c => diesel::sql_query(sql).load(c))?;
        for r in rows {
            let month = if want.ready_whole { since } else { r.month };
            bump(&mut t.ready, (r.site_id, month, i64::from(r.days)), r.n);
        }
    }
    if want.aging {
        let days: Vec<(String, NaiveDate, i64, String, i64)> = aging_days::table.load(conn)?;
        for (state, day, site, blocker, n) in days {
            if sites.has(site) {
                bump(&mut t.aging_days, (state, day, site, blocker), n);
            }
        }
        let months: Vec<(String, NaiveDate, i64, String, i64)> = aging_months::table.load(conn)?;
        for (state, month, site, blocker, n) in months {
            if sites.has(site) {
                bump(&mut t.aging_months, (state, month, site, blocker), n);
            }
        }
    }
    type CollectionRow = (i64, String, String, i64, i64, i64, i64, i64);
    let collections: Vec<CollectionRow> = match &want.collections {
        Some(ids) if ids.is_empty() => Vec::new(),
        Some(ids) => collection_counts::table
            .filter(collection_counts::collection_id.eq_any(ids))
            .load(conn)?,
        None => collection_counts::table.load(conn)?,
    };
    for (c, category, state, n, wn, wg, en, eg) in collections {
        let w = Weights {
            n,
            weighed_n: wn,
            weighed_g: wg,
            estimated_n: en,
            estimated_g: eg,
        };
        bump_w(&mut t.collections, (c, category, state), w);
    }
    Ok(t)
}

/// Adds the deltas not folded yet to `t`, as `want` asks.
fn pending(conn: &mut DbConnection, sites: &Sites, want: &Want, t: &mut Tallies) -> ApiResult<()> {
    // The deltas not folded yet (few): those of the sites read count for their stock
    // and aging, and, as those of any site, for the collections listed.
    let wants_items =
        want.stock || want.aging || want.collections.as_ref().is_none_or(|c| !c.is_empty());
    if wants_items {
        let mut pending = Tallies::default();
        for d in pending_items(conn)? {
            let listed = match (&want.collections, d.collection_id) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(ids), Some(c)) => ids.contains(&c),
            };
            if sites.has(d.site_id) {
                pending.item(&d);
            }
            if listed && let Some(c) = d.collection_id {
                let w = Weights::of(i64::from(d.n), d.weight_g, d.weight_estimated);
                bump_w(&mut t.collections, (c, d.category, d.state), w);
            }
        }
        if want.stock {
            for (k, v) in pending.stock {
                bump(&mut t.stock, k, v);
            }
        }
        if want.aging {
            for (k, v) in pending.aging_days {
                bump(&mut t.aging_days, k, v);
            }
            for (k, v) in pending.aging_months {
                bump(&mut t.aging_months, k, v);
            }
        }
    }
    if want.weeks.is_some() || want.months.is_some() || want.ready.is_some() {
        let pending = pending_flows(conn)?;
        let mut flows = Tallies::default();
        for d in pending.iter().filter(|d| sites.has(d.site_id)) {
            flows.flow(d)?;
        }
        let regions: BTreeMap<i64, i64> = if want.by == By::Region {
            sites::table
                .select((sites::id, sites::region_id))
                .load::<(i64, i64)>(conn)?
                .into_iter()
                .collect()
        } else {
            BTreeMap::new()
        };
        if let Some(since) = want.weeks {
            for ((site, week, flow), v) in flows.weeks.into_iter().filter(|(k, _)| k.1 >= since) {
                bump(&mut t.weeks, (who(want.by, site, &regions), week, flow), v);
            }
        }
        if let Some(since) = want.months {
            let wanted = |flow: &str| {
                want.flows
                    .is_none_or(|f| f.iter().any(|x| x.as_str() == flow))
            };
            for ((site, month, flow, category), v) in flows
                .months
                .into_iter()
                .filter(|(k, _)| k.1 >= since && wanted(&k.2))
            {
                let key = (who(want.by, site, &regions), month, flow, category);
                bump_w(&mut t.months, key, v);
            }
        }
        if let Some(since) = want.ready {
            for ((site, month, days), v) in flows.ready.into_iter().filter(|(k, _)| k.1 >= since) {
                let month = if want.ready_whole { since } else { month };
                bump(&mut t.ready, (site, month, days), v);
            }
        }
    }
    Ok(())
}

/// What the counters' tables gave each reading, kept in this process's memory for as
/// long as no fold changes them: every change of the counters ([`add`]) counts one
/// more generation in `counter_folds`, in its own transaction, and a reading of the
/// counters in a [`snapshot`] at a generation holds for every snapshot at that
/// generation, of any process. A dashboard then reads from the database only that
/// number and the deltas not folded yet (the figures stay exact to the second), and
/// the tables once per fold (every few seconds while technicians work).
mod memo {
    use crate::db::DbConnection;
    use crate::error::ApiResult;
    use diesel::prelude::*;
    use std::any::Any;
    use std::collections::HashMap;
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Duration;

    /// A database (its `counters` secret, told apart from the other databases a
    /// process may serve, such as the tests') at a generation of its counters.
    #[derive(Clone, PartialEq, Eq)]
    struct At {
        database: String,
        generation: i64,
    }

    struct Entry {
        at: At,
        value: Arc<dyn Any + Send + Sync>,
        size: usize,
    }

    /// Figures kept at most, over every reading (about 150 bytes each).
    const FIGURES: usize = 200_000;

    static MEMO: Mutex<Option<HashMap<String, Entry>>> = Mutex::new(None);

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        database: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        generation: i64,
    }

    /// What `make` reads from the counters' tables under `key`, kept in memory at the
    /// generation this snapshot sees; read from the tables each time where the
    /// database has no generation.
    pub fn kept<T: Any + Send + Sync + Clone>(
        conn: &mut DbConnection,
        key: String,
        size: impl Fn(&T) -> usize,
        make: impl FnOnce(&mut DbConnection) -> ApiResult<T>,
    ) -> ApiResult<T> {
        match generation(conn)? {
            Some(at) => get_or(at, key, size, || make(conn)),
            None => make(conn),
        }
    }

    /// The database and generation a snapshot sees (`None` where either is missing:
    /// the reading then goes to the tables).
    fn generation(conn: &mut DbConnection) -> ApiResult<Option<At>> {
        let row: Option<Row> = crate::on_backend!(conn, c => diesel::sql_query(
            "SELECT s.value AS database, f.generation AS generation \
             FROM server_secrets s, counter_folds f WHERE s.name = 'counters' AND f.id = 1"
        )
        .get_result(c)
        .optional())?;
        Ok(row.map(|r| At {
            database: r.database,
            generation: r.generation,
        }))
    }

    /// Readings being made, by key: a reading asked for again meanwhile at the same
    /// generation waits for it instead of reading the same tables at once (after a
    /// fold, every coordinator's next page asks for the same few readings).
    static MAKING: Mutex<Option<HashMap<String, Making>>> = Mutex::new(None);

    /// A reading being made: at which generation, and who waits for it.
    type Making = (At, Arc<Made>);

    #[derive(Default)]
    struct Made {
        done: Mutex<bool>,
        ready: Condvar,
    }

    /// What `make` gives at `at`: kept in memory, made by one reading at a time.
    fn get_or<T: Any + Send + Sync + Clone>(
        at: At,
        key: String,
        size: impl Fn(&T) -> usize,
        make: impl FnOnce() -> ApiResult<T>,
    ) -> ApiResult<T> {
        if let Some(v) = get::<T>(&at, &key) {
            return Ok(T::clone(&v));
        }
        let (made, mine) = {
            let mut making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
            let making = making.get_or_insert_with(HashMap::new);
            match making.get(&key) {
                Some((a, made)) if *a == at => (Arc::clone(made), false),
                _ => {
                    let made = Arc::new(Made::default());
                    making.insert(key.clone(), (at.clone(), Arc::clone(&made)));
                    (made, true)
                }
            }
        };
        if !mine {
            let done = made.done.lock().unwrap_or_else(|e| e.into_inner());
            // Bounded: the one making it may fail; this reading then makes its own.
            let _ = made
                .ready
                .wait_timeout_while(done, Duration::from_secs(5), |done| !*done);
            if let Some(v) = get::<T>(&at, &key) {
                return Ok(T::clone(&v));
            }
            return make();
        }
        // Those waiting are let go however this ends (an error, a panic).
        let _done = Done { key: &key, made };
        let made = make();
        if let Ok(v) = &made {
            put(at.clone(), key.clone(), v.clone(), size(v));
        }
        made
    }

    struct Done<'a> {
        key: &'a str,
        made: Arc<Made>,
    }

    impl Drop for Done<'_> {
        fn drop(&mut self) {
            *self.made.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.made.ready.notify_all();
            let mut making = MAKING.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(map) = making.as_mut()
                && map
                    .get(self.key)
                    .is_some_and(|(_, m)| Arc::ptr_eq(m, &self.made))
            {
                map.remove(self.key);
            }
        }
    }

    fn get<T: Any + Send + Sync>(at: &At, key: &str) -> Option<Arc<T>> {
        let memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
        let e = memo.as_ref()?.get(key).filter(|e| &e.at == at)?;
        Arc::clone(&e.value).downcast::<T>().ok()
    }

    /// Keeps `value` (of `size` figures) for readings at `at`.
    fn put<T: Any + Send + Sync>(at: At, key: String, value: T, size: usize) {
        if size > FIGURES / 4 {
            return;
        }
        let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
        let map = memo.get_or_insert_with(HashMap::new);
        // Older generations of this database are of no more use.
        map.retain(|_, e| e.at.database != at.database || e.at.generation >= at.generation);
        if map.get(&key).is_some_and(|e| e.at != at) {
            // A newer generation's is there already.
            return;
        }
        if map.values().map(|e| e.size).sum::<usize>() + size > FIGURES {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                at,
                value: Arc::new(value),
                size,
            },
        );
    }
}

/// The item deltas not folded yet (few: the sweep folds them every few seconds),
/// read through the key from the first one: a burst of writes can leave the table's
/// file hundreds of megabytes of empty pages that a read of the whole table would go
/// over (on PostgreSQL, when its vacuum cannot give them back).
pub fn pending_items(conn: &mut DbConnection) -> ApiResult<Vec<ItemDelta>> {
    let first: Option<i64> = item_deltas::table
        .select(diesel::dsl::min(item_deltas::id))
        .first(conn)?;
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    Ok(item_deltas::table
        .filter(item_deltas::id.ge(first))
        .order(item_deltas::id)
        .select(item_delta_columns!())
        .load(conn)?)
}

/// The flow deltas not folded yet, read as [`pending_items`] reads the item deltas.
fn pending_flows(conn: &mut DbConnection) -> ApiResult<Vec<FlowDelta>> {
    let first: Option<i64> = flow_deltas::table
        .select(diesel::dsl::min(flow_deltas::id))
        .first(conn)?;
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    Ok(flow_deltas::table
        .filter(flow_deltas::id.ge(first))
        .order(flow_deltas::id)
        .select(flow_delta_columns!())
        .load(conn)?)
}

#[derive(QueryableByName)]
struct WaitingRow {
    /// Which cutoff the row counts for (its place in the list asked for).
    #[diesel(sql_type = diesel::sql_types::Integer)]
    k: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    site_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    blocker: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A state and the time (UTC) before which an item in it has waited too long.
pub type Cutoff = (ItemState, NaiveDateTime);

/// How many items wait, by state, site and what they wait for.
pub type Waiting = BTreeMap<(ItemState, i64, String), i64>;

/// A value bound to a statement of the aging reads.
enum Value {
    Time(NaiveDateTime),
    Int(i64),
}

/// The values bound to a statement of the aging reads, in the order of its
/// placeholders.
struct Bound {
    pg: bool,
    values: Vec<Value>,
}

impl Bound {
    fn new(conn: &DbConnection) -> Bound {
        Bound {
            pg: matches!(conn, DbConnection::Pg(_)),
            values: Vec::new(),
        }
    }

    /// The placeholder of one more value.
    fn push(&mut self, v: Value) -> String {
        self.values.push(v);
        if self.pg {
            format!("${}", self.values.len())
        } else {
            "?".to_owned()
        }
    }

    fn time(&mut self, at: NaiveDateTime) -> String {
        self.push(Value::Time(at))
    }

    fn int(&mut self, n: i64) -> String {
        self.push(Value::Int(n))
    }

    /// Runs `sql` with its values bound, as a statement the connection keeps prepared
    /// (its text changes only with the scope, the states and the reason asked for, so
    /// that a connection keeps few of them): on PostgreSQL a union of a dozen index
    /// reads takes longer to plan than to run.
    fn load<T>(self, conn: &mut DbConnection, sql: &str) -> ApiResult<Vec<T>>
    where
        T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
    {
        use diesel::sql_types::{BigInt, Timestamp};
        Ok(on_backend!(conn, c => {
            let mut q = diesel::sql_query(sql).into_boxed();
            for v in self.values {
                q = match v {
                    Value::Time(t) => q.bind::<Timestamp, _>(t),
                    Value::Int(n) => q.bind::<BigInt, _>(n),
                };
            }
            Kept(q).load(c)
        })?)
    }
}

/// The condition on `items` (aliased `i`) for waiting at the sites read, for what is
/// waited for. `i.blocker <> ''` is written out, not bound: the aging index is partial
/// on that condition, and a database uses a partial index only for a query whose own
/// condition it can see implies the index's (a bound `?` or `$1` hides it).
fn waiting_filter(sites: &Sites, blocker: Option<WaitingFor>) -> String {
    format!(
        " AND i.blocker <> ''{}",
        sites_reason_of("i", sites, blocker)
    )
}

/// Items that wait for something (or for `blocker`), in each cutoff's state since
/// before its time, by state, site and what they wait for: the counters of the whole
/// months and days before the cutoff's day, with the deltas of `pending` from before
/// that day, and the items of that day read from the table itself, so that each count
/// is exact to the second (the counters' sums kept in memory until the next fold, as
/// [`read`] keeps its own). One question to the database for all the cutoffs, and one
/// more when the sums are not in memory. Run in a [`snapshot`], with `pending` read in
/// it.
pub fn waiting(
    conn: &mut DbConnection,
    sites: &Sites,
    cutoffs: &[Cutoff],
    blocker: Option<WaitingFor>,
    pending: &[ItemDelta],
) -> ApiResult<Waiting> {
    let mut out = Waiting::new();
    if cutoffs.is_empty() {
        return Ok(out);
    }
    let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let start = |at: NaiveDateTime| at.date().and_time(chrono::NaiveTime::MIN);
    // Every value written into the SQL is the server's own: an enum's name, dates, ids.
    let mut counted = Vec::new();
    let mut today = Vec::new();
    let mut bound = Bound::new(conn);
    for (k, (state, before)) in cutoffs.iter().enumerate() {
        let day = before.date();
        let month = day.with_day(1).unwrap_or(day);
        let filter = format!(
            "c.state = '{}'{}",
            state.as_str(),
            sites_reason_of("c", sites, blocker)
        );
        counted.push(format!(
            "SELECT {k} AS k, c.site_id AS site_id, c.blocker AS blocker, \
             CAST(SUM(c.n) AS BIGINT) AS n FROM aging_months c \
             WHERE {filter} AND c.month < '{m}' GROUP BY c.site_id, c.blocker \
             UNION ALL \
             SELECT {k} AS k, c.site_id AS site_id, c.blocker AS blocker, \
             CAST(SUM(c.n) AS BIGINT) AS n FROM aging_days c \
             WHERE {filter} AND c.day >= '{m}' AND c.day < '{d}' GROUP BY c.site_id, c.blocker",
            m = date(month),
            d = date(day),
        ));
        today.push(format!(
            "SELECT {k} AS k, i.site_id AS site_id, i.blocker AS blocker \
             FROM items i WHERE i.state = '{}' AND i.state_since >= {} \
             AND i.state_since < {}{}",
            state.as_str(),
            bound.time(start(*before)),
            bound.time(*before),
            waiting_filter(sites, blocker),
        ));
    }
    let counters = counted.join(" UNION ALL ");
    let summed = |rows: Vec<WaitingRow>| -> Waiting {
        let mut out = Waiting::new();
        for r in rows {
            if let Some((state, _)) = usize::try_from(r.k).ok().and_then(|k| cutoffs.get(k)) {
                bump(&mut out, (*state, r.site_id, r.blocker), r.n);
            }
        }
        out
    };
    let kept = memo::kept(conn, counters.clone(), BTreeMap::len, |c| {
        let rows = on_backend!(c, c => diesel::sql_query(&counters).load(c))?;
        Ok(summed(rows))
    })?;
    for (key, n) in kept {
        bump(&mut out, key, n);
    }
    // The cutoffs' own days, to the second.
    let exact = format!(
        "SELECT t.k AS k, t.site_id AS site_id, t.blocker AS blocker, \
         CAST(COUNT(*) AS BIGINT) AS n FROM ({}) t GROUP BY t.k, t.site_id, t.blocker",
        today.join(" UNION ALL ")
    );
    for (key, n) in summed(bound.load(conn, &exact)?) {
        bump(&mut out, key, n);
    }
    for d in pending {
        if d.blocker.is_empty()
            || !sites.has(d.site_id)
            || blocker.is_some_and(|b| b.as_str() != d.blocker)
        {
            continue;
        }
        for (state, before) in cutoffs {
            let counted =
                d.state == state.as_str() && d.state_since.is_some_and(|s| s < start(*before));
            if counted {
                bump(
                    &mut out,
                    (*state, d.site_id, d.blocker.clone()),
                    i64::from(d.n),
                );
            }
        }
    }
    out.retain(|_, n| *n != 0);
    Ok(out)
}

/// One of the items waiting longest.
#[derive(QueryableByName)]
pub struct Oldest {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub category: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub site_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub state: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub blocker: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub since: NaiveDateTime,
}

/// The `limit` items waiting longest over the cutoffs (as [`waiting`] counts them),
/// oldest first, in one question: the oldest of each state read in the order of the
/// aging index, from it alone, and no further than `counted` says the state has, then
/// the details of the oldest of all.
pub fn oldest(
    conn: &mut DbConnection,
    sites: &Sites,
    cutoffs: &[Cutoff],
    blocker: Option<WaitingFor>,
    counted: &Waiting,
    limit: i64,
) -> ApiResult<Vec<Oldest>> {
    let mut branches = Vec::new();
    let mut bound = Bound::new(conn);
    for (k, (state, before)) in cutoffs.iter().enumerate() {
        // A state with nothing waiting keeps its branch (read no further than `LIMIT
        // 0`), so that the statement's text stays the same whatever the counts.
        let n: i64 = counted
            .iter()
            .filter(|((s, _, _), _)| s == state)
            .map(|(_, n)| *n)
            .sum();
        branches.push(format!(
            "SELECT o{k}.id AS id, o{k}.since AS since FROM (\
             SELECT i.id AS id, i.state_since AS since FROM items i \
             WHERE i.state = '{}' AND i.state_since < {}{} \
             ORDER BY i.state_since LIMIT {}) o{k}",
            state.as_str(),
            bound.time(*before),
            waiting_filter(sites, blocker),
            bound.int(n.clamp(0, limit)),
        ));
    }
    if branches.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT i.id AS id, i.code AS code, i.category AS category, i.site_id AS site_id, \
         i.state AS state, i.blocker AS blocker, o.since AS since \
         FROM ({} ORDER BY since, id LIMIT {}) o JOIN items i ON i.id = o.id \
         ORDER BY o.since, o.id",
        branches.join(" UNION ALL "),
        bound.int(limit),
    );
    bound.load(conn, &sql)
}

/// Every figure worked out again from the items and their events, as if no counter
/// had ever been kept.
pub fn recount(conn: &mut DbConnection) -> ApiResult<Tallies> {
    let mut t = Tallies::default();
    type ItemCols = (
        i64,
        Option<i64>,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<i64>,
        bool,
        Option<String>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<ItemCols> = items::table
        .select((
            items::site_id,
            items::collection_id,
            items::category,
            items::state,
            items::functional_grade,
            items::spec_key,
            items::weight_g,
            items::weight_estimated,
            items::blocker,
            items::state_since,
        ))
        .load(conn)?;
    for (site, collection, category, state, grade, spec, weight, estimated, blocker, since) in rows
    {
        t.item(&ItemDelta {
            site_id: site,
            collection_id: collection,
            category,
            state,
            grade: grade.unwrap_or_default(),
            spec_key: spec.unwrap_or_default(),
            weight_g: weight,
            weight_estimated: estimated,
            blocker: blocker.unwrap_or_default(),
            state_since: since,
            n: 1,
        });
    }
    // Events that count in a flow, and the corrections that take some back.
    type EventCols = (i64, i64, i64, NaiveDateTime, String, String, String);
    let events: Vec<EventCols> = item_events::table
        .filter(
            item_events::flow
                .ne("")
                .or(item_events::event_type.eq(EventType::Corrected.as_str())),
        )
        .order(item_events::id.asc())
        .select((
            item_events::id,
            item_events::item_id,
            item_events::site_id,
            item_events::occurred_at,
            item_events::flow.assume_not_null(),
            item_events::event_type,
            item_events::payload,
        ))
        .load(conn)?;
    let mut corrected = std::collections::HashSet::new();
    for (_, _, _, _, _, event_type, payload) in &events {
        if event_type == EventType::Corrected.as_str()
            && let EventPayload::Corrected { event, .. } =
                serde_json::from_str(payload).map_err(ApiError::internal)?
        {
            corrected.insert(event.0);
        }
    }
    let facts: BTreeMap<i64, (String, Option<i64>, bool)> = items::table
        .select((
            items::id,
            items::category,
            items::weight_g,
            items::weight_estimated,
        ))
        .load::<(i64, String, Option<i64>, bool)>(conn)?
        .into_iter()
        .map(|(id, c, w, e)| (id, (c, w, e)))
        .collect();
    // The last reception of each item before each event, corrected or not (as the
    // triggers see it).
    let mut last_reception: BTreeMap<i64, NaiveDateTime> = BTreeMap::new();
    for (id, item, site, at, flow, _, _) in &events {
        if flow.is_empty() {
            continue;
        }
        let received_at = last_reception.get(item).copied();
        if flow == Flow::Received.as_str() || flow == Flow::Intake.as_str() {
            last_reception.insert(*item, *at);
        }
        if corrected.contains(id) {
            continue;
        }
        let (category, weight, estimated) = facts
            .get(item)
            .cloned()
            .ok_or_else(|| ApiError::internal("an event without its item"))?;
        t.flow(&FlowDelta {
            site_id: *site,
            occurred_at: *at,
            flow: flow.clone(),
            category,
            weight_g: weight,
            weight_estimated: estimated,
            received_at: if flow == Flow::Ready.as_str() {
                received_at
            } else {
                None
            },
            n: 1,
        })?;
    }
    // Households equipped: each beneficiary's first invoice.
    let invoices: Vec<(i64, i64, NaiveDateTime)> = sales::table
        .filter(sales::kind.eq(filiere_shared::SaleKind::Invoice.as_str()))
        .filter(sales::beneficiary_id.is_not_null())
        .order(sales::id.asc())
        .select((
            sales::beneficiary_id.assume_not_null(),
            sales::site_id,
            sales::sold_at,
        ))
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    for (beneficiary, site, at) in invoices {
        if seen.insert(beneficiary) {
            t.flow(&FlowDelta {
                site_id: site,
                occurred_at: at,
                flow: Flow::Equipped.as_str().to_owned(),
                category: String::new(),
                weight_g: None,
                weight_estimated: false,
                received_at: None,
                n: 1,
            })?;
        }
    }
    Ok(t.without_zeros())
}

/// The counters of a database that had none (or had them before this version):
/// the items' and events' own columns worked out, every counter recounted. One
/// server process does it, in one transaction; the others find it done.
pub fn rebuild(conn: &mut DbConnection) -> ApiResult<bool> {
    // 2: the aging counters.
    const VERSION: &str = "2";
    conn.transaction(|c| {
        // Claimed by one process: the others find the version there (on PostgreSQL,
        // after waiting for the first to commit).
        let claimed = diesel::sql_query(format!(
            "INSERT INTO settings (name, value) VALUES ('aggregates', '{VERSION}') \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value \
             WHERE settings.value <> excluded.value"
        ))
        .execute(c)?;
        if claimed == 0 {
            return Ok(false);
        }
        backfill(c)?;
        diesel::delete(item_deltas::table).execute(c)?;
        diesel::delete(flow_deltas::table).execute(c)?;
        diesel::delete(stock_counts::table).execute(c)?;
        diesel::delete(collection_counts::table).execute(c)?;
        diesel::delete(flow_weeks::table).execute(c)?;
        diesel::delete(flow_months::table).execute(c)?;
        diesel::delete(ready_times::table).execute(c)?;
        diesel::delete(aging_days::table).execute(c)?;
        diesel::delete(aging_months::table).execute(c)?;
        let t = recount(c)?;
        add(c, &t)?;
        Ok(true)
    })
}

/// Works out the columns the counters group by, for rows written before them.
fn backfill(conn: &mut DbConnection) -> ApiResult<()> {
    loop {
        let rows: Vec<(i64, String, String, String)> = items::table
            .filter(items::blocker.is_null().or(items::spec_key.is_null()))
            .select((items::id, items::category, items::specs, items::lifecycle))
            .limit(5000)
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for (id, category, specs, lifecycle) in rows {
            let category =
                filiere_shared::Category::from_str(&category).map_err(ApiError::internal)?;
            let specs: filiere_shared::api::Specs =
                serde_json::from_str(&specs).map_err(ApiError::internal)?;
            let lc: filiere_shared::lifecycle::Lifecycle =
                serde_json::from_str(&lifecycle).map_err(ApiError::internal)?;
            diesel::update(items::table.find(id))
                .set((
                    items::spec_key.eq(filiere_shared::dashboards::spec_key(
                        category,
                        specs.part_spec.as_deref(),
                        specs.ram_gb,
                        specs.storage_gb,
                    )),
                    items::blocker.eq(lc.waiting_for().map(|b| b.as_str()).unwrap_or_default()),
                ))
                .execute(conn)?;
        }
    }
    loop {
        let rows: Vec<(i64, String)> = item_events::table
            .filter(item_events::flow.is_null())
            .select((item_events::id, item_events::payload))
            .limit(5000)
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for (id, payload) in rows {
            let p: EventPayload = serde_json::from_str(&payload).map_err(ApiError::internal)?;
            diesel::update(item_events::table.find(id))
                .set(item_events::flow.eq(p.flow().map(|f| f.as_str()).unwrap_or_default()))
                .execute(conn)?;
        }
    }
    Ok(())
}
