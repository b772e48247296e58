//! The dashboards: stock, flows, aging, impact; each for whom it may be shown (a
//! technician their site, a coordinator their region, an admin every region), read
//! from the counters of [`crate::aggregates`] in one snapshot.

use super::{check, check_rule, parse_stored};
use crate::aggregates::{self, By, Sites, Tallies, Want, Weights};
use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};
use crate::on_backend;
use crate::schema::{
    aging_thresholds, collections, impact_factors, items, needs, organisations, reservations,
    settings, sites, training_bookings, training_sessions,
};
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use filiere_shared::dashboards::*;
use filiere_shared::*;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Whose figures: the sites listed, and how the counters are read for them.
pub struct Scope {
    pub sites: Vec<SiteRef>,
    pub only: Sites,
}

impl Scope {
    pub fn site_ids(&self) -> Vec<i64> {
        self.sites.iter().map(|s| s.id.0).collect()
    }
}

fn all_sites(conn: &mut DbConnection) -> ApiResult<Vec<SiteRef>> {
    let rows: Vec<(i64, String, i64)> = sites::table
        .order((sites::region_id, sites::name))
        .select((sites::id, sites::name, sites::region_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, region)| SiteRef {
            id: SiteId(id),
            name,
            region: RegionId(region),
        })
        .collect())
}

/// The sites a caller's dashboards cover, narrowed to a region or a site: a
/// technician their site, a coordinator their region, an admin any. Social workers
/// have no dashboards; a region or site outside the caller's scope is refused.
pub fn scope(
    conn: &mut DbConnection,
    actor: &Actor,
    region: Option<RegionId>,
    site: Option<SiteId>,
) -> ApiResult<Scope> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])?;
    let every = all_sites(conn)?;
    if let Some(s) = site
        && !every.iter().any(|x| x.id == s)
    {
        return Err(actor.err(ErrorCode::SiteNotFound));
    }
    let own: Vec<SiteRef> = match actor.role {
        Role::Admin => every.clone(),
        Role::Coordinator => {
            let r = actor.region.ok_or_else(|| actor.out_of_scope())?;
            if region.is_some_and(|x| x != r) {
                return Err(actor.out_of_scope());
            }
            every.iter().filter(|s| s.region == r).cloned().collect()
        }
        _ => {
            let own = actor.site.ok_or_else(|| actor.out_of_scope())?;
            if site.is_some_and(|x| x != own) {
                return Err(actor.out_of_scope());
            }
            let mine: Vec<SiteRef> = every.iter().filter(|s| s.id == own).cloned().collect();
            if region.is_some_and(|r| mine.iter().all(|s| s.region != r)) {
                return Err(actor.out_of_scope());
            }
            mine
        }
    };
    let mut chosen: Vec<SiteRef> = own
        .into_iter()
        .filter(|s| region.is_none_or(|r| s.region == r))
        .filter(|s| site.is_none_or(|x| s.id == x))
        .collect();
    if site.is_some() && chosen.is_empty() {
        return Err(actor.out_of_scope());
    }
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    let only = if actor.role == Role::Admin && region.is_none() && site.is_none() {
        Sites::All
    } else {
        Sites::Only(chosen.iter().map(|s| s.id.0).collect())
    };
    Ok(Scope {
        sites: chosen,
        only,
    })
}

fn tallies(conn: &mut DbConnection, scope: &Scope, want: Want) -> ApiResult<Tallies> {
    aggregates::read(conn, &scope.only, &want)
}

/// States a device is in stock in: not yet gone (sold, recycled) nor torn down.
fn in_stock(state: ItemState) -> bool {
    !matches!(
        state,
        ItemState::Sold | ItemState::Recycled | ItemState::Harvested | ItemState::Destroyed
    )
}

/// Devices by site, category, state and grade; parts in stock by category and key
/// spec.
pub fn stock(
    conn: &mut DbConnection,
    actor: &Actor,
    q: &DashboardQuery,
) -> ApiResult<StockDashboard> {
    aggregates::snapshot(conn, |c| {
        let scope = scope(c, actor, q.region, q.site)?;
        let t = tallies(
            c,
            &scope,
            Want {
                stock: true,
                collections: Some(Vec::new()),
                ..Want::default()
            },
        )?;
        let mut devices = Vec::new();
        let mut parts: BTreeMap<(i64, String, String), PartStock> = BTreeMap::new();
        for ((site, category, state, grade, spec), n) in &t.stock {
            let category: Category = parse_stored(category)?;
            let state: ItemState = parse_stored(state)?;
            match category.kind() {
                ItemKind::Device => {
                    if !in_stock(state) {
                        continue;
                    }
                    devices.push(StockCell {
                        site: SiteId(*site),
                        category,
                        state,
                        grade: if grade.is_empty() {
                            None
                        } else {
                            Some(parse_stored(grade)?)
                        },
                        count: *n,
                    });
                }
                ItemKind::Part => {
                    if !matches!(
                        state,
                        ItemState::InStock | ItemState::TestedGood | ItemState::Faulty
                    ) {
                        continue;
                    }
                    let line = parts
                        .entry((*site, category.as_str().to_owned(), spec.clone()))
                        .or_insert_with(|| PartStock {
                            site: SiteId(*site),
                            category,
                            spec: spec.clone(),
                            untested: 0,
                            tested_good: 0,
                            faulty: 0,
                        });
                    match state {
                        ItemState::InStock => line.untested += n,
                        ItemState::TestedGood => line.tested_good += n,
                        _ => line.faulty += n,
                    }
                }
            }
        }
        Ok(StockDashboard {
            sites: scope.sites,
            devices,
            parts: parts.into_values().collect(),
        })
    })
}

/// Weeks charted: the last 53 (a year and the week under way).
pub const WEEKS: u64 = 53;

/// Flows per week over the last year, and days from reception to ready per site.
pub fn flows(
    conn: &mut DbConnection,
    actor: &Actor,
    q: &DashboardQuery,
    today: NaiveDate,
) -> ApiResult<FlowDashboard> {
    let this_week = aggregates::week_of(today.and_time(chrono::NaiveTime::MIN));
    let first = this_week - chrono::Days::new(7 * (WEEKS - 1));
    // Reception to ready over the last twelve months, the current one included.
    let this_month = today.with_day(1).unwrap_or(today);
    let first_month = this_month - Months::new(11);
    aggregates::snapshot(conn, |c| {
        let scope = scope(c, actor, q.region, q.site)?;
        let t = tallies(
            c,
            &scope,
            Want {
                weeks: Some(first),
                ready: Some(first_month),
                ready_whole: true,
                by: By::Total,
                collections: Some(Vec::new()),
                ..Want::default()
            },
        )?;
        let flows = Flow::CHARTED.to_vec();
        let mut weeks: Vec<FlowWeek> = (0..WEEKS)
            .map(|i| FlowWeek {
                week: first + chrono::Days::new(7 * i),
                counts: vec![0; flows.len()],
            })
            .collect();
        for ((_, week, flow), n) in &t.weeks {
            let Some(w) = weeks.iter_mut().find(|w| w.week == *week) else {
                continue;
            };
            if let Some(i) = flows.iter().position(|f| f.as_str() == flow) {
                w.counts[i] += n;
            }
        }
        let mut by_site: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
        for ((site, _, days), n) in &t.ready {
            by_site.entry(*site).or_default().push((*days, *n));
        }
        let ready_times = scope
            .sites
            .iter()
            .map(|s| {
                let h = by_site.get(&s.id.0).cloned().unwrap_or_default();
                ReadyTime {
                    site: s.id,
                    devices: h.iter().map(|(_, n)| n).sum(),
                    median_days: percentile(&h, 0.5),
                    p90_days: percentile(&h, 0.9),
                }
            })
            .collect();
        Ok(FlowDashboard {
            sites: scope.sites,
            flows,
            weeks,
            ready_times,
        })
    })
}

pub fn thresholds(conn: &mut DbConnection) -> ApiResult<Vec<AgingThreshold>> {
    let rows: Vec<(String, i32)> = aging_thresholds::table.load(conn)?;
    let mut out = Vec::new();
    for (state, days) in rows {
        out.push(AgingThreshold {
            state: parse_stored(&state)?,
            days,
        });
    }
    out.sort_by_key(|t| ItemState::ALL.iter().position(|s| *s == t.state));
    Ok(out)
}

/// Items waiting past their state's threshold (or `min_days`), counted by site,
/// state and what blocks them, and listed oldest first.
pub fn aging(
    conn: &mut DbConnection,
    actor: &Actor,
    q: &AgingQuery,
    now: DateTime<Utc>,
) -> ApiResult<AgingDashboard> {
    let limit = q.limit.unwrap_or(100);
    if q.min_days.is_some_and(|d| d > 3650) {
        return Err(ApiError::new(ErrorCode::InvalidQuery)
            .with_message(
                actor
                    .lang
                    .pick("min_days : entre 0 et 3650", "min_days: between 0 and 3650"),
            )
            .in_lang(actor.lang));
    }
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery)
            .with_message(
                actor
                    .lang
                    .pick("limit : entre 1 et 1000", "limit: between 1 and 1000"),
            )
            .in_lang(actor.lang));
    }
    aggregates::snapshot(conn, |c| {
        let scope = scope(c, actor, q.region, q.site)?;
        let thresholds = thresholds(c)?;
        let pending = aggregates::pending_items(c)?;
        let cutoffs: Vec<aggregates::Cutoff> = thresholds
            .iter()
            .filter(|t| q.state.is_none_or(|s| s == t.state))
            .map(|t| {
                let days = q.min_days.map_or(i64::from(t.days), i64::from);
                (t.state, (now - chrono::Duration::days(days)).naive_utc())
            })
            .collect();
        let grouped = aggregates::waiting(c, &scope.only, &cutoffs, q.waiting_for, &pending)?;
        let mut counts = Vec::new();
        for ((state, site, blocker), n) in &grouped {
            counts.push(AgingCount {
                site: SiteId(*site),
                state: *state,
                waiting_for: parse_stored(blocker)?,
                count: *n,
            });
        }
        // The counts are exact: the list reads no more items of a state than they give.
        let oldest = aggregates::oldest(c, &scope.only, &cutoffs, q.waiting_for, &grouped, limit)?;
        let mut listed = Vec::new();
        for o in oldest {
            let since = o.since.and_utc();
            listed.push(AgingItem {
                id: ItemId(o.id),
                code: o.code,
                category: parse_stored(&o.category)?,
                site: SiteId(o.site_id),
                state: parse_stored(&o.state)?,
                waiting_for: parse_stored(&o.blocker)?,
                since,
                days: (now - since).num_days(),
            });
        }
        Ok(AgingDashboard {
            sites: scope.sites,
            thresholds,
            counts,
            items: listed,
        })
    })
}

/// A month as "2026-10", or a refusal in the caller's language.
pub fn parse_month(actor_lang: Lang, field: &str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .ok()
        .filter(|d| (1970..=2999).contains(&d.year()))
        .ok_or(())
        .map_err(|_| {
            ApiError::new(ErrorCode::InvalidQuery)
                .with_message(format!(
                    "{field} : {}",
                    actor_lang.pick("un mois comme 2026-10", "a month such as 2026-10")
                ))
                .in_lang(actor_lang)
        })
}

/// The period of an impact query: from the first month to the last, twelve months
/// ending with the current one by default.
pub fn period(lang: Lang, q: &ImpactQuery, today: NaiveDate) -> ApiResult<(NaiveDate, NaiveDate)> {
    let this = today.with_day(1).unwrap_or(today);
    let to = match &q.to {
        Some(s) => parse_month(lang, "to", s)?,
        None => this,
    };
    let from = match &q.from {
        Some(s) => parse_month(lang, "from", s)?,
        None => to - Months::new(11),
    };
    if from > to || to - Months::new(120) > from {
        return Err(ApiError::rule(
            filiere_shared::validate::FieldError::new(
                "from",
                "la période va d'un mois à dix ans, « from » avant « to »",
                "the period runs from one month to ten years, \"from\" before \"to\"",
            ),
            lang,
        ));
    }
    Ok((from, to))
}

pub fn extra_years(conn: &mut DbConnection) -> ApiResult<i64> {
    let v: Option<String> = settings::table
        .find("impact_extra_years")
        .select(settings::value)
        .first(conn)
        .optional()?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(2))
}

/// The dashboards' settings, for whoever has dashboards.
pub fn settings_view(conn: &mut DbConnection, actor: &Actor) -> ApiResult<DashboardSettings> {
    actor.require(&[Role::Technician, Role::Coordinator, Role::Admin])?;
    Ok(DashboardSettings {
        extra_years: extra_years(conn)?,
        thresholds: thresholds(conn)?,
    })
}

/// An admin changes the extra years of use counted for a reused device, or how long
/// an item may wait in some states; nothing is written when a value is refused.
pub fn update_settings(
    conn: &mut DbConnection,
    actor: &Actor,
    req: &UpdateDashboardSettings,
) -> ApiResult<DashboardSettings> {
    use filiere_shared::validate::{self, FieldError};
    actor.require(&[Role::Admin])?;
    if let Some(years) = req.extra_years {
        check(actor, validate::range("extra_years", years, 1, 10))?;
    }
    let known = thresholds(conn)?;
    for (i, t) in req.thresholds.iter().enumerate() {
        check(
            actor,
            validate::range(&format!("thresholds[{i}].days"), t.days.into(), 1, 3650),
        )?;
        let field = format!("thresholds[{i}].state");
        if !known.iter().any(|k| k.state == t.state) {
            check_rule(
                actor,
                Err(FieldError::new(
                    field,
                    "rien n'attend dans cet état",
                    "nothing waits in this state",
                )),
            )?;
        } else if req.thresholds[..i].iter().any(|o| o.state == t.state) {
            check_rule(
                actor,
                Err(FieldError::new(field, "donné deux fois", "given twice")),
            )?;
        }
    }
    if let Some(years) = req.extra_years {
        on_backend!(conn, c => diesel::insert_into(settings::table)
            .values((
                settings::name.eq("impact_extra_years"),
                settings::value.eq(years.to_string()),
            ))
            .on_conflict(settings::name)
            .do_update()
            .set(settings::value.eq(years.to_string()))
            .execute(c))?;
    }
    for t in &req.thresholds {
        diesel::update(aging_thresholds::table.find(t.state.as_str()))
            .set(aging_thresholds::days.eq(t.days))
            .execute(conn)?;
    }
    settings_view(conn, actor)
}

pub struct Factor {
    pub avoided_g_per_year: Option<i64>,
    pub avoided_source: Option<String>,
    pub manufacturing_g: Option<i64>,
    pub manufacturing_source: Option<String>,
    pub estimated_weight_g: i64,
    pub weight_source: String,
    pub source_date: NaiveDate,
}

pub fn factors(conn: &mut DbConnection) -> ApiResult<BTreeMap<Category, Factor>> {
    type Row = (
        String,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<String>,
        i64,
        String,
        NaiveDate,
    );
    let rows: Vec<Row> = impact_factors::table.load(conn)?;
    let mut out = BTreeMap::new();
    for (c, a, asrc, m, msrc, w, wsrc, date) in rows {
        out.insert(
            parse_stored(&c)?,
            Factor {
                avoided_g_per_year: a,
                avoided_source: asrc,
                manufacturing_g: m,
                manufacturing_source: msrc,
                estimated_weight_g: w,
                weight_source: wsrc,
                source_date: date,
            },
        );
    }
    Ok(out)
}

/// Reuse per category from the monthly flows: sold less taken back.
pub fn reuse_by_category(
    months: &BTreeMap<aggregates::MonthKey, Weights>,
    keep: impl Fn(i64, NaiveDate) -> bool,
) -> BTreeMap<Category, Weights> {
    let mut out: BTreeMap<Category, Weights> = BTreeMap::new();
    for ((site, month, flow, category), w) in months {
        if !keep(*site, *month) {
            continue;
        }
        let Ok(category) = Category::from_str(category) else {
            continue;
        };
        if category.kind() != ItemKind::Device {
            continue;
        }
        let sign = if flow == Flow::Sold.as_str() {
            1
        } else if flow == Flow::TakenBack.as_str() {
            -1
        } else {
            continue;
        };
        out.entry(category).or_default().add(Weights {
            n: sign * w.n,
            weighed_n: sign * w.weighed_n,
            weighed_g: sign * w.weighed_g,
            estimated_n: sign * w.estimated_n,
            estimated_g: sign * w.estimated_g,
        });
    }
    out
}

/// One category's impact line from its reuse and factor.
pub fn impact_line(category: Category, w: Weights, f: Option<&Factor>, years: i64) -> ImpactLine {
    let est = f.map_or(0, |f| f.estimated_weight_g);
    let avoided = f.and_then(|f| f.avoided_g_per_year);
    ImpactLine {
        category,
        reused: w.n,
        weighed_g: w.weighed_g,
        estimated_g: w.estimated_g,
        unweighed: w.unweighed(),
        estimated_weight_g: est,
        avoided_g_per_year: avoided,
        avoided_source: f.and_then(|f| f.avoided_source.clone()),
        co2e_avoided_g: avoided.map_or(0, |a| a * w.n * years),
        manufacturing_g: f.and_then(|f| f.manufacturing_g),
        manufacturing_source: f.and_then(|f| f.manufacturing_source.clone()),
        weight_source: f.map_or_else(String::new, |f| f.weight_source.clone()),
        source_date: f.map_or(NaiveDate::MIN, |f| f.source_date),
    }
}

/// Households equipped (their first invoice), per month and whom the monthly flows
/// were read for (a site, a region, or all).
pub fn households(t: &Tallies) -> BTreeMap<(i64, NaiveDate), i64> {
    let mut out = BTreeMap::new();
    for ((who, month, flow, _), w) in &t.months {
        if flow == Flow::Equipped.as_str() {
            *out.entry((*who, *month)).or_insert(0) += w.n;
        }
    }
    out
}

/// Minutes of training sessions held (someone came), per region and month.
pub fn training_minutes(
    conn: &mut DbConnection,
    since: NaiveDate,
) -> ApiResult<BTreeMap<(i64, NaiveDate), i64>> {
    let from = since.and_time(chrono::NaiveTime::MIN) - chrono::Duration::days(1);
    let rows: Vec<(i64, i64, NaiveDateTime, i32)> = training_sessions::table
        .filter(training_sessions::starts_at.ge(from))
        .filter(diesel::dsl::exists(
            training_bookings::table
                .filter(training_bookings::session_id.eq(training_sessions::id))
                .filter(training_bookings::attendance.eq("attended")),
        ))
        .select((
            training_sessions::id,
            training_sessions::region_id,
            training_sessions::starts_at,
            training_sessions::duration_minutes,
        ))
        .load(conn)?;
    let mut out = BTreeMap::new();
    for (_, region, at, minutes) in rows {
        let month = aggregates::month_of(at);
        if month >= since {
            *out.entry((region, month)).or_insert(0) += i64::from(minutes);
        }
    }
    Ok(out)
}

/// Units reused, kilograms kept out of waste, CO2e avoided, households equipped and
/// training given over a period.
pub fn impact(
    conn: &mut DbConnection,
    actor: &Actor,
    q: &ImpactQuery,
    today: NaiveDate,
) -> ApiResult<ImpactView> {
    let (from, to) = period(actor.lang, q, today)?;
    aggregates::snapshot(conn, |c| {
        let scope = scope(c, actor, q.region, q.site)?;
        let t = tallies(
            c,
            &scope,
            Want {
                months: Some(from),
                by: By::Total,
                flows: Some(&[Flow::Sold, Flow::TakenBack, Flow::Equipped]),
                collections: Some(Vec::new()),
                ..Want::default()
            },
        )?;
        let years = extra_years(c)?;
        let factors = factors(c)?;
        let reuse = reuse_by_category(&t.months, |_, m| m >= from && m <= to);
        let mut lines = Vec::new();
        for (category, w) in reuse {
            lines.push(impact_line(category, w, factors.get(&category), years));
        }
        let households = households(&t)
            .into_iter()
            .filter(|((_, month), _)| *month <= to)
            .map(|(_, n)| n)
            .sum();
        let regions: Vec<i64> = scope.sites.iter().map(|s| s.region.0).collect();
        // Training is the region's: shown when the scope is a whole region or more.
        let whole_regions = q.site.is_none() && actor.role != Role::Technician;
        let training_minutes = if whole_regions {
            training_minutes(c, from)?
                .into_iter()
                .filter(|((r, month), _)| regions.contains(r) && *month <= to)
                .map(|(_, n)| n)
                .sum()
        } else {
            0
        };
        let kept_g = lines
            .iter()
            .map(|l| l.weighed_g + l.estimated_g + l.unweighed * l.estimated_weight_g)
            .sum();
        let kept_estimated_g = lines
            .iter()
            .map(|l| l.estimated_g + l.unweighed * l.estimated_weight_g)
            .sum();
        Ok(ImpactView {
            sites: scope.sites,
            from,
            to,
            extra_years: years,
            reused: lines.iter().map(|l| l.reused).sum(),
            kept_g,
            kept_estimated_g,
            co2e_avoided_g: lines.iter().map(|l| l.co2e_avoided_g).sum(),
            households,
            training_minutes,
            lines,
        })
    })
}

/// What the list behind a dashboard figure is filtered by.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub region: Option<RegionId>,
    pub site: Option<SiteId>,
    pub category: Option<Category>,
    pub kind: Option<ItemKind>,
    pub state: Option<ItemState>,
    /// `Some(None)`: no grade.
    pub grade: Option<Option<Grade>>,
    /// Devices still in stock (not sold, recycled or torn down).
    pub in_stock: bool,
    pub spec: Option<String>,
    pub blocker: Option<WaitingFor>,
    /// In its state for at least this many days.
    pub min_days: Option<u32>,
}

/// One item of such a list.
pub struct ItemLine {
    pub id: i64,
    pub code: String,
    pub category: Category,
    pub state: ItemState,
    pub grade: Option<Grade>,
    pub site: SiteId,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub blocker: Option<WaitingFor>,
    pub since: Option<DateTime<Utc>>,
}

/// A page of the items behind a figure, by id after `after`: the items and the id
/// to go on from (`None` on the last page).
pub fn item_page(
    conn: &mut DbConnection,
    actor: &Actor,
    f: &ItemFilter,
    after: Option<i64>,
    limit: i64,
    now: DateTime<Utc>,
) -> ApiResult<(Vec<ItemLine>, Option<i64>)> {
    let scope = scope(conn, actor, f.region, f.site)?;
    let mut q = items::table
        .order(items::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Sites::Only(ids) = &scope.only {
        q = q.filter(items::site_id.eq_any(ids.clone()));
    }
    if let Some(a) = after {
        q = q.filter(items::id.gt(a));
    }
    if let Some(c) = f.category {
        q = q.filter(items::category.eq(c.as_str()));
    }
    if let Some(k) = f.kind {
        q = q.filter(items::kind.eq(k.as_str()));
    }
    if let Some(s) = f.state {
        q = q.filter(items::state.eq(s.as_str()));
    }
    match f.grade {
        Some(Some(g)) => q = q.filter(items::functional_grade.eq(g.as_str())),
        Some(None) => q = q.filter(items::functional_grade.is_null()),
        None => {}
    }
    if f.in_stock {
        let gone: Vec<&str> = ItemState::ALL
            .iter()
            .filter(|s| !in_stock(**s))
            .map(|s| s.as_str())
            .collect();
        q = q.filter(items::state.ne_all(gone));
    }
    if let Some(s) = &f.spec {
        q = q.filter(items::spec_key.eq(s.clone()));
    }
    if let Some(b) = f.blocker {
        q = q.filter(items::blocker.eq(b.as_str()));
    }
    if let Some(d) = f.min_days {
        let before = (now - chrono::Duration::days(i64::from(d))).naive_utc();
        q = q.filter(items::state_since.lt(before));
    }
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = q
        .select((
            items::id,
            items::code,
            items::category,
            items::state,
            items::functional_grade,
            items::site_id,
            items::brand,
            items::model,
            items::blocker,
            items::state_since,
        ))
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    let mut out = Vec::new();
    for (id, code, category, state, grade, site, brand, model, blocker, since) in
        rows.into_iter().take(limit as usize)
    {
        out.push(ItemLine {
            id,
            code,
            category: parse_stored(&category)?,
            state: parse_stored(&state)?,
            grade: grade.as_deref().map(parse_stored).transpose()?,
            site: SiteId(site),
            brand,
            model,
            blocker: match blocker.as_deref() {
                None | Some("") => None,
                Some(b) => Some(parse_stored(b)?),
            },
            since: since.map(|s| s.and_utc()),
        });
    }
    let next = if more { out.last().map(|l| l.id) } else { None };
    Ok((out, next))
}

/// The collections of the caller's scope, newest pickup first (at most `limit`), each
/// with its weight balance: declared = where its devices are now + missing.
pub fn collections(
    conn: &mut DbConnection,
    actor: &Actor,
    q: &DashboardQuery,
    limit: i64,
) -> ApiResult<CollectionsDashboard> {
    aggregates::snapshot(conn, |c| {
        let scope = scope(c, actor, q.region, q.site)?;
        type Row = (
            i64,
            Option<String>,
            String,
            i64,
            NaiveDate,
            String,
            i32,
            Option<i64>,
            Option<i32>,
            Option<i64>,
        );
        let rows: Vec<Row> = collections::table
            .inner_join(organisations::table)
            .filter(collections::site_id.eq_any(scope.site_ids()))
            .order((collections::pickup_date.desc(), collections::id.desc()))
            .limit(limit)
            .select((
                collections::id,
                collections::reference,
                organisations::name,
                collections::site_id,
                collections::pickup_date,
                collections::status,
                collections::declared_count,
                collections::declared_weight_g,
                collections::missing_count,
                collections::missing_weight_g,
            ))
            .load(c)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let t = tallies(
            c,
            &scope,
            Want {
                collections: Some(ids),
                ..Want::default()
            },
        )?;
        let factors = factors(c)?;
        let mut out = Vec::new();
        for (id, reference, donor, site, date, status, declared, declared_g, missing, missing_g) in
            rows
        {
            let mut lines: BTreeMap<BalanceLine, Mass> = BTreeMap::new();
            let mut registered = Mass::default();
            for ((cid, category, state), w) in
                t.collections.range((id, String::new(), String::new())..)
            {
                if *cid != id {
                    break;
                }
                let (Ok(category), Ok(state)) =
                    (Category::from_str(category), ItemState::from_str(state))
                else {
                    continue;
                };
                if category.kind() != ItemKind::Device {
                    continue;
                }
                let Some(line) = BalanceLine::of(state) else {
                    continue;
                };
                let est = factors.get(&category).map_or(0, |f| f.estimated_weight_g);
                let m = Mass {
                    devices: w.n,
                    weighed_g: w.weighed_g,
                    estimated_g: w.estimated_g,
                    unweighed: w.unweighed(),
                    category_estimated_g: w.unweighed() * est,
                };
                lines.entry(line).or_default().add(&m);
                registered.add(&m);
            }
            out.push(CollectionBalance {
                id: CollectionId(id),
                reference,
                donor,
                site: SiteId(site),
                pickup_date: date,
                status: parse_stored(&status)?,
                declared_count: declared,
                declared_weight_g: declared_g,
                lines: BalanceLine::ALL
                    .iter()
                    .map(|l| BalanceRow {
                        line: *l,
                        mass: lines.get(l).cloned().unwrap_or_default(),
                    })
                    .collect(),
                registered,
                missing_count: missing,
                missing_weight_g: missing_g,
            });
        }
        Ok(CollectionsDashboard {
            sites: scope.sites,
            collections: out,
        })
    })
}

/// Social workers' open needs and active reservations per category against the ready
/// stock, and the training sessions with their seats, for the caller's regions.
pub fn demand(
    conn: &mut DbConnection,
    actor: &Actor,
    q: &DashboardQuery,
    now: DateTime<Utc>,
) -> ApiResult<DemandDashboard> {
    aggregates::snapshot(conn, |c| {
        let scope = scope(c, actor, q.region, q.site)?;
        let regions: Vec<i64> = {
            let mut r: Vec<i64> = scope.sites.iter().map(|s| s.region.0).collect();
            r.sort();
            r.dedup();
            r
        };
        let site_ids = scope.site_ids();
        let needs: Vec<(String, i64)> = needs::table
            .filter(needs::region_id.eq_any(&regions))
            .filter(needs::closed_at.is_null())
            .group_by(needs::category)
            .select((needs::category, diesel::dsl::count_star()))
            .load(c)?;
        let held: Vec<(String, i64)> = reservations::table
            .filter(reservations::site_id.eq_any(&site_ids))
            .filter(reservations::status.eq(ReservationStatus::Active.as_str()))
            .group_by(reservations::category)
            .select((reservations::category, diesel::dsl::count_star()))
            .load(c)?;
        let t = tallies(
            c,
            &scope,
            Want {
                stock: true,
                collections: Some(Vec::new()),
                ..Want::default()
            },
        )?;
        let mut lines = Vec::new();
        for cat in Category::ALL
            .iter()
            .filter(|c| c.kind() == ItemKind::Device)
        {
            let count = |rows: &[(String, i64)]| {
                rows.iter()
                    .filter(|(k, _)| k == cat.as_str())
                    .map(|(_, n)| *n)
                    .sum::<i64>()
            };
            let ready: i64 = t
                .stock
                .iter()
                .filter(|(k, _)| k.1 == cat.as_str() && k.2 == ItemState::Ready.as_str())
                .map(|(_, n)| *n)
                .sum();
            let line = DemandLine {
                category: *cat,
                open_needs: count(&needs),
                active_reservations: count(&held),
                ready,
            };
            if line.open_needs + line.active_reservations + line.ready > 0 {
                lines.push(line);
            }
        }
        let since = (now - chrono::Duration::days(30)).naive_utc();
        let sessions: Vec<(i64, NaiveDateTime, i32)> = training_sessions::table
            .filter(training_sessions::region_id.eq_any(&regions))
            .filter(training_sessions::starts_at.ge(since))
            .order(training_sessions::starts_at.asc())
            .limit(200)
            .select((
                training_sessions::id,
                training_sessions::starts_at,
                training_sessions::capacity,
            ))
            .load(c)?;
        let ids: Vec<i64> = sessions.iter().map(|s| s.0).collect();
        let bookings: Vec<(i64, String, Option<String>, i64)> = training_bookings::table
            .filter(training_bookings::session_id.eq_any(&ids))
            .group_by((
                training_bookings::session_id,
                training_bookings::status,
                training_bookings::attendance,
            ))
            .select((
                training_bookings::session_id,
                training_bookings::status,
                training_bookings::attendance,
                diesel::dsl::count_star(),
            ))
            .load(c)?;
        let sessions = sessions
            .into_iter()
            .map(|(id, at, capacity)| {
                let of = |f: &dyn Fn(&str, Option<&str>) -> bool| -> i64 {
                    bookings
                        .iter()
                        .filter(|b| b.0 == id && f(&b.1, b.2.as_deref()))
                        .map(|b| b.3)
                        .sum()
                };
                let booked = of(&|s, _| s == BookingStatus::Booked.as_str());
                SessionLoad {
                    id: TrainingSessionId(id),
                    starts_at: at.and_utc(),
                    capacity,
                    booked,
                    waiting: of(&|s, _| s == BookingStatus::Waiting.as_str()),
                    attended: of(&|_, a| a == Some(Attendance::Attended.as_str())),
                    free: (i64::from(capacity) - booked).max(0),
                }
            })
            .collect();
        Ok(DemandDashboard {
            sites: scope.sites,
            lines,
            sessions,
        })
    })
}

/// What a reading covers, in words: a site's name, a region's, or the whole network
/// (in `lang`).
pub fn covers(
    conn: &mut DbConnection,
    actor: &Actor,
    region: Option<RegionId>,
    site: Option<SiteId>,
    shown: &[SiteRef],
) -> ApiResult<String> {
    let region_name = |conn: &mut DbConnection, r: RegionId| -> ApiResult<String> {
        Ok(crate::schema::regions::table
            .find(r.0)
            .select(crate::schema::regions::name)
            .first::<String>(conn)
            .optional()?
            .unwrap_or_default())
    };
    Ok(match (site, region, actor.role) {
        (Some(_), _, _) | (None, None, Role::Technician) => {
            shown.first().map(|s| s.name.clone()).unwrap_or_default()
        }
        (None, Some(r), _) => region_name(conn, r)?,
        (None, None, Role::Admin) => actor
            .lang
            .pick("Ensemble du réseau", "The whole network")
            .to_owned(),
        (None, None, _) => match actor.region {
            Some(r) => region_name(conn, r)?,
            None => String::new(),
        },
    })
}
